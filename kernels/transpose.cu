// Swap of the last two dimensions: x (batch, M, N) → y (batch, N, M), through a 32×33 shared tile so that both
// the reads and the writes are coalesced. grid = (ceil(N/32), ceil(M/32), batch), block = (32, 8).
#include "common.cuh"

extern "C" __global__ void b2i_transpose_last2_f32(const float* __restrict__ x, float* __restrict__ y, int M, int N) {
    __shared__ float tile[32][33];
    long long base = (long long)blockIdx.z * M * N;
    int j0 = blockIdx.x * 32, i0 = blockIdx.y * 32;
    for (int r = threadIdx.y; r < 32; r += 8) {
        int i = i0 + r, j = j0 + threadIdx.x;
        if (i < M && j < N) tile[r][threadIdx.x] = x[base + (long long)i * N + j];
    }
    __syncthreads();
    for (int r = threadIdx.y; r < 32; r += 8) {
        int j = j0 + r, i = i0 + threadIdx.x;
        if (i < M && j < N) y[base + (long long)j * M + i] = tile[threadIdx.x][r];
    }
}
