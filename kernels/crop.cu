// Window crop with zero fill: x (planes, H, W) → y (planes, h, w), y[p, r, q] = x[p, top + r, left + q] where that
// lies inside x, else 0 (torchvision's CenterCrop of a smaller image pads). With top/left negated and (h, w) the
// input size it is also the crop's input gradient. One thread per output element.
#include "common.cuh"

extern "C" __global__ void b2i_crop_f32(const float* __restrict__ x, float* __restrict__ y, long long planes, int H,
                                        int W, int top, int left, int h, int w) {
    long long per = (long long)h * w;
    B2I_GRID_STRIDE(e, planes * per) {
        long long p = e / per;
        int o = (int)(e - p * per), r = o / w, q = o - r * w;
        int yy = top + r, xx = left + q;
        y[e] = (yy >= 0 && yy < H && xx >= 0 && xx < W) ? x[(p * H + yy) * W + xx] : 0.f;
    }
}
