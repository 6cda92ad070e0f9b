// Nearest-neighbour ×2 upsampling (U-Net and VAE upsamplers). x (planes, H, W) → y (planes, 2H, 2W),
// planes = B·C. One thread per output element.
#include "common.cuh"

extern "C" __global__ void b2i_upsample_nearest2x_f32(const float* __restrict__ x, float* __restrict__ y,
                                                      long long planes, int H, int W) {
    int W2 = 2 * W;
    long long plane2 = 4LL * H * W;
    long long n = planes * plane2;
    B2I_GRID_STRIDE(i, n) {
        long long p = i / plane2;
        int r = (int)(i - p * plane2);
        int oy = r / W2, ox = r - oy * W2;
        y[i] = x[p * H * W + (long long)(oy >> 1) * W + (ox >> 1)];
    }
}
