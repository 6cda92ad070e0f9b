// Layer normalisation over the last dimension D (transformer blocks, CLIP). x, y: (rows, D); gamma, beta: (D).
// fp32 statistics in two passes. One block per row: grid = rows.
#include "common.cuh"

extern "C" __global__ void b2i_layernorm_f32(const float* __restrict__ x, float* __restrict__ y,
                                             const float* __restrict__ gamma, const float* __restrict__ beta,
                                             int D, float eps) {
    __shared__ float scratch[32];
    const float* xr = x + (long long)blockIdx.x * D;
    float* yr = y + (long long)blockIdx.x * D;

    float s = 0.f;
    for (int i = threadIdx.x; i < D; i += blockDim.x) s += xr[i];
    float mean = b2i_block_sum(s, scratch) / (float)D;

    float q = 0.f;
    for (int i = threadIdx.x; i < D; i += blockDim.x) {
        float d = xr[i] - mean;
        q += d * d;
    }
    float inv = 1.f / sqrtf(b2i_block_sum(q, scratch) / (float)D + eps);

    for (int i = threadIdx.x; i < D; i += blockDim.x) yr[i] = (xr[i] - mean) * inv * gamma[i] + beta[i];
}
