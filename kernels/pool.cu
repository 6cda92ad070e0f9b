// Max, average and adaptive average pooling (PyTorch semantics, dilation 1) and their input gradients. Planes are
// B·C images of H×W; outputs Ho×Wo (the host computes the sizes, ceil mode included). One thread per output
// element forward; the backward kernels gather, one thread per input element, over the windows that contain it,
// in the order the CPU backend scatters (rows, then columns), so no atomics are needed and results are the same.
#include "common.cuh"

// Flat in-plane index of the max of window (r, q): first one on ties, the first NaN wins; -1 if the window lies
// in the padding only.
__device__ __forceinline__ int b2i_window_argmax(const float* __restrict__ plane, int H, int W, int r, int q,
                                                 int kh, int kw, int sh, int sw, int ph, int pw) {
    int y0 = r * sh - ph, x0 = q * sw - pw;
    int best = -1;
    float mx = -INFINITY;
    for (int y = max(0, y0); y < min(H, y0 + kh); y++) {
        for (int x = max(0, x0); x < min(W, x0 + kw); x++) {
            float v = plane[y * W + x];
            if (best < 0 || v > mx || isnan(v)) {
                mx = v;
                best = y * W + x;
                if (isnan(v)) return best;
            }
        }
    }
    return best;
}

extern "C" __global__ void b2i_maxpool2d_f32(const float* __restrict__ x, float* __restrict__ y, long long planes,
                                             int H, int W, int Ho, int Wo, int kh, int kw, int sh, int sw, int ph, int pw) {
    long long per = (long long)Ho * Wo;
    B2I_GRID_STRIDE(e, planes * per) {
        long long p = e / per;
        int o = (int)(e - p * per), r = o / Wo, q = o - r * Wo;
        const float* plane = x + p * H * W;
        int a = b2i_window_argmax(plane, H, W, r, q, kh, kw, sh, sw, ph, pw);
        y[e] = a < 0 ? -INFINITY : plane[a];
    }
}

// First and last window index (inclusive, clipped to [0, n)) whose window [i·s − pad, i·s − pad + k) contains v.
__device__ __forceinline__ void b2i_windows_containing(int v, int k, int s, int pad, int n, int& lo, int& hi) {
    int a = v + pad - k + 1;                 // i·s ≥ a
    lo = a <= 0 ? 0 : (a + s - 1) / s;
    hi = min(n - 1, (v + pad) / s);          // i·s ≤ v + pad
}

extern "C" __global__ void b2i_maxpool2d_backward_f32(const float* __restrict__ x, const float* __restrict__ g,
                                                      float* __restrict__ dx, long long planes, int H, int W, int Ho,
                                                      int Wo, int kh, int kw, int sh, int sw, int ph, int pw) {
    long long per = (long long)H * W;
    B2I_GRID_STRIDE(e, planes * per) {
        long long p = e / per;
        int i = (int)(e - p * per), yy = i / W, xx = i - yy * W;
        const float* plane = x + p * per;
        const float* gp = g + p * Ho * Wo;
        int r0, r1, q0, q1;
        b2i_windows_containing(yy, kh, sh, ph, Ho, r0, r1);
        b2i_windows_containing(xx, kw, sw, pw, Wo, q0, q1);
        float s = 0.f;
        for (int r = r0; r <= r1; r++)
            for (int q = q0; q <= q1; q++)
                if (b2i_window_argmax(plane, H, W, r, q, kh, kw, sh, sw, ph, pw) == i) s += gp[r * Wo + q];
        dx[e] = s;
    }
}

// Divisor of window (r, q): the window clipped to the padded input, or with count_include_pad off to the input.
__device__ __forceinline__ int b2i_avg_divisor(int H, int W, int r, int q, int kh, int kw, int sh, int sw, int ph,
                                               int pw, int includePad, int& y0, int& y1, int& x0, int& x1) {
    int ys = r * sh - ph, ye = min(ys + kh, H + ph);
    int xs = q * sw - pw, xe = min(xs + kw, W + pw);
    y0 = max(ys, 0); y1 = min(ye, H); x0 = max(xs, 0); x1 = min(xe, W);
    return includePad ? (ye - ys) * (xe - xs) : (y1 - y0) * (x1 - x0);
}

extern "C" __global__ void b2i_avgpool2d_f32(const float* __restrict__ x, float* __restrict__ y, long long planes,
                                             int H, int W, int Ho, int Wo, int kh, int kw, int sh, int sw, int ph,
                                             int pw, int includePad) {
    long long per = (long long)Ho * Wo;
    B2I_GRID_STRIDE(e, planes * per) {
        long long p = e / per;
        int o = (int)(e - p * per), r = o / Wo, q = o - r * Wo;
        int y0, y1, x0, x1;
        int div = b2i_avg_divisor(H, W, r, q, kh, kw, sh, sw, ph, pw, includePad, y0, y1, x0, x1);
        const float* plane = x + p * H * W;
        float s = 0.f;
        for (int yy = y0; yy < y1; yy++)
            for (int xx = x0; xx < x1; xx++) s += plane[yy * W + xx];
        y[e] = s / div;
    }
}

extern "C" __global__ void b2i_avgpool2d_backward_f32(const float* __restrict__ g, float* __restrict__ dx,
                                                      long long planes, int H, int W, int Ho, int Wo, int kh, int kw,
                                                      int sh, int sw, int ph, int pw, int includePad) {
    long long per = (long long)H * W;
    B2I_GRID_STRIDE(e, planes * per) {
        long long p = e / per;
        int i = (int)(e - p * per), yy = i / W, xx = i - yy * W;
        const float* gp = g + p * Ho * Wo;
        int r0, r1, q0, q1;
        b2i_windows_containing(yy, kh, sh, ph, Ho, r0, r1);
        b2i_windows_containing(xx, kw, sw, pw, Wo, q0, q1);
        float s = 0.f;
        for (int r = r0; r <= r1; r++)
            for (int q = q0; q <= q1; q++) {
                int y0, y1, x0, x1;
                int div = b2i_avg_divisor(H, W, r, q, kh, kw, sh, sw, ph, pw, includePad, y0, y1, x0, x1);
                s += gp[r * Wo + q] / div;
            }
        dx[e] = s;
    }
}

// Adaptive window i of n over an axis of length len: [⌊i·len/n⌋, ⌈(i+1)·len/n⌉).
__device__ __forceinline__ int b2i_adaptive_start(int i, int len, int n) { return (int)((long long)i * len / n); }
__device__ __forceinline__ int b2i_adaptive_end(int i, int len, int n) { return (int)(((long long)(i + 1) * len + n - 1) / n); }

extern "C" __global__ void b2i_adaptive_avgpool2d_f32(const float* __restrict__ x, float* __restrict__ y,
                                                      long long planes, int H, int W, int Ho, int Wo) {
    long long per = (long long)Ho * Wo;
    B2I_GRID_STRIDE(e, planes * per) {
        long long p = e / per;
        int o = (int)(e - p * per), r = o / Wo, q = o - r * Wo;
        int y0 = b2i_adaptive_start(r, H, Ho), y1 = b2i_adaptive_end(r, H, Ho);
        int x0 = b2i_adaptive_start(q, W, Wo), x1 = b2i_adaptive_end(q, W, Wo);
        const float* plane = x + p * H * W;
        float s = 0.f;
        for (int yy = y0; yy < y1; yy++)
            for (int xx = x0; xx < x1; xx++) s += plane[yy * W + xx];
        y[e] = s / ((y1 - y0) * (x1 - x0));
    }
}

extern "C" __global__ void b2i_adaptive_avgpool2d_backward_f32(const float* __restrict__ g, float* __restrict__ dx,
                                                               long long planes, int H, int W, int Ho, int Wo) {
    long long per = (long long)H * W;
    B2I_GRID_STRIDE(e, planes * per) {
        long long p = e / per;
        int i = (int)(e - p * per), yy = i / W, xx = i - yy * W;
        const float* gp = g + p * Ho * Wo;
        // windows containing yy: ⌊yy·Ho/H⌋ ≤ r ≤ ⌈(yy+1)·Ho/H⌉ − 1 (the bounds are re-checked in the loop)
        int r0 = (int)((long long)yy * Ho / H), r1 = min(Ho - 1, (int)(((long long)(yy + 1) * Ho + H - 1) / H) - 1);
        int q0 = (int)((long long)xx * Wo / W), q1 = min(Wo - 1, (int)(((long long)(xx + 1) * Wo + W - 1) / W) - 1);
        float s = 0.f;
        for (int r = r0; r <= r1; r++) {
            int y0 = b2i_adaptive_start(r, H, Ho), y1 = b2i_adaptive_end(r, H, Ho);
            if (yy < y0 || yy >= y1) continue;
            for (int q = q0; q <= q1; q++) {
                int x0 = b2i_adaptive_start(q, W, Wo), x1 = b2i_adaptive_end(q, W, Wo);
                if (xx < x0 || xx >= x1) continue;
                s += gp[r * Wo + q] / ((y1 - y0) * (x1 - x0));
            }
        }
        dx[e] = s;
    }
}
