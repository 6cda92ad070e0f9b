// Nearest-neighbour upsampling (U-Net and VAE upsamplers): ×2, and to a given size (U-Net latents whose
// sides do not halve evenly). planes = B·C. One thread per output element.
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

// Nearest-neighbour resize to a given size, as PyTorch's F.interpolate(size=(OH, OW), mode="nearest"), which
// diffusers' U-Net uses when a latent side does not halve evenly: source index = min(floor(o·(in/out)), in−1),
// the scale in/out and the product rounded to float32 as PyTorch does. x (planes, H, W) → y (planes, OH, OW).
extern "C" __global__ void b2i_upsample_nearest_f32(const float* __restrict__ x, float* __restrict__ y,
                                                    long long planes, int H, int W, int OH, int OW) {
    long long plane = (long long)OH * OW;
    long long n = planes * plane;
    float sy = (float)H / (float)OH, sx = (float)W / (float)OW;
    B2I_GRID_STRIDE(i, n) {
        long long p = i / plane;
        int r = (int)(i - p * plane);
        int oy = r / OW, ox = r - oy * OW;
        int iy = min((int)floorf((float)oy * sy), H - 1);
        int ix = min((int)floorf((float)ox * sx), W - 1);
        y[i] = x[p * H * W + (long long)iy * W + ix];
    }
}
