// im2col for convolution as GEMM: one image x (C, H, W) → col (C·kh·kw, rows·Wo) for the output rows
// [r0, r0+rows) of a convolution with stride (sh, sw) and top/left padding (pt, pl); out-of-image taps are 0.
// Row index of col: (c·kh + i)·kw + j, as the weight (O, C, kh, kw) is laid out, so out = W · col.
#include "common.cuh"

extern "C" __global__ void b2i_im2col_f32(const float* __restrict__ x, float* __restrict__ col,
                                          int C, int H, int W, int kh, int kw, int sh, int sw, int pt, int pl,
                                          int Wo, int r0, int rows) {
    long long cols = (long long)rows * Wo;
    long long n = (long long)C * kh * kw * cols;
    B2I_GRID_STRIDE(e, n) {
        long long rowIdx = e / cols;
        int q = (int)(e - rowIdx * cols);
        int j = (int)(rowIdx % kw);
        int i = (int)((rowIdx / kw) % kh);
        int c = (int)(rowIdx / ((long long)kw * kh));
        int orow = r0 + q / Wo, ocol = q % Wo;
        int yy = orow * sh - pt + i, xx = ocol * sw - pl + j;
        col[e] = (yy >= 0 && yy < H && xx >= 0 && xx < W) ? x[((long long)c * H + yy) * W + xx] : 0.f;
    }
}
