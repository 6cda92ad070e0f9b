// Crop of (planes, H, W) to rows [top, top+h) × columns [left, left+w), zero outside the input (so it also pads,
// and crop(g, −top, −left, H, W) is its own input gradient).
#include "common.cuh"

extern "C" __global__ void b2i_crop_f32(const float* __restrict__ x, float* __restrict__ y, long long planes, int H,
                                        int W, int top, int left, int h, int w) {
    long long n = planes * h * w;
    B2I_GRID_STRIDE(i, n) {
        long long p = i / ((long long)h * w);
        int o = (int)(i - p * h * w), r = o / w, q = o - r * w;
        int yy = top + r, xx = left + q;
        y[i] = (yy >= 0 && yy < H && xx >= 0 && xx < W) ? x[(p * H + yy) * W + xx] : 0.f;
    }
}
