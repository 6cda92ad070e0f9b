// Shared device helpers for the brain2img kernels (included, not compiled on its own).
#pragma once

// Grid-stride loop over [0, n): every kernel launched with a capped 1-D grid covers any n.
#define B2I_GRID_STRIDE(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long)gridDim.x * blockDim.x)

__device__ __forceinline__ float b2i_warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float b2i_warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum of v over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
// scratch: __shared__ float[32]. Ends with a barrier so scratch can be reused at once.
__device__ __forceinline__ float b2i_block_sum(float v, float* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = b2i_warp_sum(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    float t = lane < warps ? scratch[lane] : 0.f;
    t = b2i_warp_sum(t);
    __syncthreads();
    return t;
}

__device__ __forceinline__ float b2i_block_max(float v, float* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = b2i_warp_max(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    float t = lane < warps ? scratch[lane] : -INFINITY;
    t = b2i_warp_max(t);
    __syncthreads();
    return t;
}

// Exact GELU x·Φ(x), as torch.nn.functional.gelu(approximate='none').
__device__ __forceinline__ float b2i_gelu(float x) {
    return 0.5f * x * (1.f + erff(x * 0.70710678118654752f));
}

__device__ __forceinline__ float b2i_silu(float x) {
    return x / (1.f + expf(-x));
}
