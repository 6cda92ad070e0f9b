// col2im for transposed convolution (and so the input gradient of convolution): cols (C·kh·kw, rows·w) holds, for
// input rows [r0, r0+rows) of width w, each input pixel's contribution to output pixel
// (iy·sh − pt + i, ix·sw − pl + j); out (C, outH, outW) += the sum of the contributions landing on each pixel.
// One thread per output element gathers its taps, so no atomics are needed.
#include "common.cuh"

extern "C" __global__ void b2i_col2im_f32(const float* __restrict__ cols, float* __restrict__ out, int C, int kh,
                                          int kw, int sh, int sw, int pt, int pl, int r0, int rows, int w, int outH,
                                          int outW) {
    long long n = (long long)C * outH * outW;
    long long ncol = (long long)rows * w;
    B2I_GRID_STRIDE(e, n) {
        int c = (int)(e / ((long long)outH * outW));
        int o = (int)(e - (long long)c * outH * outW), oy = o / outW, ox = o - oy * outW;
        float s = 0.f;
        for (int i = 0; i < kh; i++) {
            int ty = oy + pt - i;
            if (ty < 0 || ty % sh != 0) continue;
            int iy = ty / sh - r0;
            if (iy < 0 || iy >= rows) continue;
            for (int j = 0; j < kw; j++) {
                int tx = ox + pl - j;
                if (tx < 0 || tx % sw != 0) continue;
                int ix = tx / sw;
                if (ix >= w) continue;
                s += cols[((long long)(c * kh + i) * kw + j) * ncol + (long long)iy * w + ix];
            }
        }
        out[e] += s;
    }
}
