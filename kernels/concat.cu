// Concatenation along dimension 1 (U-Net skip connections). a (B, blockA), b (B, blockB) per batch item,
// where block = channels·spatial → y (B, blockA + blockB).
#include "common.cuh"

extern "C" __global__ void b2i_concat_channels_f32(const float* __restrict__ a, const float* __restrict__ b,
                                                   float* __restrict__ y, long long B, long long blockA, long long blockB) {
    long long row = blockA + blockB;
    long long n = B * row;
    B2I_GRID_STRIDE(i, n) {
        long long bi = i / row;
        long long o = i - bi * row;
        y[i] = o < blockA ? a[bi * blockA + o] : b[bi * blockB + (o - blockA)];
    }
}
