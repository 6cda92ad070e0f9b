// Softmax over the last dimension. x, y: (rows, n). One block per row: grid = rows.
// Entries of -inf get probability 0 (max is subtracted first, so exp never overflows).
#include "common.cuh"

extern "C" __global__ void b2i_softmax_f32(const float* __restrict__ x, float* __restrict__ y, int n) {
    __shared__ float scratch[32];
    const float* xr = x + (long long)blockIdx.x * n;
    float* yr = y + (long long)blockIdx.x * n;

    float m = -INFINITY;
    for (int i = threadIdx.x; i < n; i += blockDim.x) m = fmaxf(m, xr[i]);
    m = b2i_block_max(m, scratch);

    float s = 0.f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) s += expf(xr[i] - m);
    float inv = 1.f / b2i_block_sum(s, scratch);

    for (int i = threadIdx.x; i < n; i += blockDim.x) yr[i] = expf(xr[i] - m) * inv;
}
