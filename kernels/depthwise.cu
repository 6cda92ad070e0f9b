// Depthwise convolution (groups = input channels, EfficientNet's k×k layers), direct: x (B, C, H, W),
// w (C·m, 1, kh, kw) → y (B, C·m, Ho, Wo); output channel o reads input channel o / m. A GEMM per channel would
// have a single row, so each thread sums its kh·kw taps. Padding taps are 0.
#include "common.cuh"

extern "C" __global__ void b2i_depthwise_conv2d_f32(const float* __restrict__ x, const float* __restrict__ w,
                                                    float* __restrict__ y, int B, int C, int m, int H, int W, int kh,
                                                    int kw, int sh, int sw, int pt, int pl, int Ho, int Wo) {
    long long per = (long long)Ho * Wo;
    long long OC = (long long)C * m;
    B2I_GRID_STRIDE(e, (long long)B * OC * per) {
        long long bo = e / per;                // b·OC + o
        int pix = (int)(e - bo * per), r = pix / Wo, q = pix - r * Wo;
        int o = (int)(bo % OC);
        long long b = bo / OC;
        const float* plane = x + (b * C + o / m) * H * W;
        const float* wk = w + (long long)o * kh * kw;
        float s = 0.f;
        for (int i = 0; i < kh; i++) {
            int yy = r * sh - pt + i;
            if (yy < 0 || yy >= H) continue;
            for (int j = 0; j < kw; j++) {
                int xx = q * sw - pl + j;
                if (xx >= 0 && xx < W) s += wk[i * kw + j] * plane[yy * W + xx];
            }
        }
        y[e] = s;
    }
}
