// col2im for transposed convolution (and so convolution's input gradient) as GEMM: the columns of one image,
// col (C·kh·kw, rows·W) = Wᵀ · x for the input rows [r0, r0+rows) of an input of width W, are added into
// out (C, outH, outW): input pixel (r, q) and tap (i, j) land on (r·sh − pt + i, q·sw − pl + j); taps outside the
// output are dropped. Gathered, one thread per output element, so bands can accumulate without atomics.
#include "common.cuh"

extern "C" __global__ void b2i_col2im_add_f32(const float* __restrict__ col, float* __restrict__ out, int C,
                                              int outH, int outW, int kh, int kw, int sh, int sw, int pt, int pl,
                                              int W, int r0, int rows) {
    long long per = (long long)outH * outW;
    long long n = (long long)rows * W;
    B2I_GRID_STRIDE(e, (long long)C * per) {
        int c = (int)(e / per);
        int pix = (int)(e - (long long)c * per), yy = pix / outW, xx = pix - yy * outW;
        float s = 0.f;
        for (int i = 0; i < kh; i++) {
            int ty = yy + pt - i;
            if (ty < 0 || ty % sh != 0) continue;
            int r = ty / sh - r0;
            if (r < 0 || r >= rows) continue;
            for (int j = 0; j < kw; j++) {
                int tx = xx + pl - j;
                if (tx < 0 || tx % sw != 0) continue;
                int q = tx / sw;
                if (q >= W) continue;
                s += col[((long long)(c * kh + i) * kw + j) * n + (long long)r * W + q];
            }
        }
        out[e] += s;
    }
}
