// Group normalisation, optionally fused with SiLU (every ResNet block of the U-Net and VAE).
// x, y: (B, C, spatial) contiguous; gamma, beta: (C). Statistics in fp32, two passes (mean, then the sum of
// squared deviations) so that large means do not cancel. One block per (batch, group): grid = B·G.
#include "common.cuh"

extern "C" __global__ void b2i_groupnorm_f32(const float* __restrict__ x, float* __restrict__ y,
                                             const float* __restrict__ gamma, const float* __restrict__ beta,
                                             int C, int G, long long spatial, float eps, int silu) {
    __shared__ float scratch[32];
    int bg = blockIdx.x;
    int cpg = C / G;
    int c0 = (bg % G) * cpg;
    long long len = (long long)cpg * spatial;
    const float* xg = x + (long long)bg * len;
    float* yg = y + (long long)bg * len;

    float s = 0.f;
    for (long long i = threadIdx.x; i < len; i += blockDim.x) s += xg[i];
    float mean = b2i_block_sum(s, scratch) / (float)len;

    float q = 0.f;
    for (long long i = threadIdx.x; i < len; i += blockDim.x) {
        float d = xg[i] - mean;
        q += d * d;
    }
    float inv = 1.f / sqrtf(b2i_block_sum(q, scratch) / (float)len + eps);

    for (long long i = threadIdx.x; i < len; i += blockDim.x) {
        int c = c0 + (int)(i / spatial);
        float v = (xg[i] - mean) * inv * gamma[c] + beta[c];
        yg[i] = silu ? b2i_silu(v) : v;
    }
}
