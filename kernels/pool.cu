// Max, average and adaptive average pooling of (planes, H, W) → (planes, Ho, Wo), planes = B·C, and their input
// gradients. Backward kernels gather (one thread per input element, summing over the windows that contain it),
// so they need no atomics and give the same bits every run. Semantics as torch (see Backend.maxPool2d).
#include "common.cuh"

// Flat in-plane index of the max of window (r, q), the first one on ties (NaN wins); -1 if it holds no pixel.
__device__ __forceinline__ int b2i_window_argmax(const float* x, int H, int W, int r, int q, int kh, int kw,
                                                 int sh, int sw, int ph, int pw) {
    int y0 = r * sh - ph, x0 = q * sw - pw;
    int best = -1;
    float m = 0.f;
    for (int y = max(y0, 0); y < min(y0 + kh, H); y++) {
        for (int xx = max(x0, 0); xx < min(x0 + kw, W); xx++) {
            float v = x[y * W + xx];
            if (best < 0 || v > m || (v != v)) {
                m = v;
                best = y * W + xx;
                if ((v != v)) return best;
            }
        }
    }
    return best;
}

extern "C" __global__ void b2i_maxpool_f32(const float* __restrict__ x, float* __restrict__ y, long long planes,
                                           int H, int W, int Ho, int Wo, int kh, int kw, int sh, int sw, int ph, int pw) {
    long long n = planes * Ho * Wo;
    B2I_GRID_STRIDE(i, n) {
        long long p = i / ((long long)Ho * Wo);
        int o = (int)(i - p * Ho * Wo), r = o / Wo, q = o - r * Wo;
        const float* xp = x + p * H * W;
        int a = b2i_window_argmax(xp, H, W, r, q, kh, kw, sh, sw, ph, pw);
        y[i] = a < 0 ? -INFINITY : xp[a];
    }
}

// First and last window index (inclusive) along one axis whose window [o·s − pad, o·s − pad + k) holds v.
__device__ __forceinline__ void b2i_windows(int v, int k, int s, int pad, int out, int* lo, int* hi) {
    int a = v + pad - k + 1;
    *lo = a <= 0 ? 0 : (a + s - 1) / s;
    *hi = min((v + pad) / s, out - 1);
}

extern "C" __global__ void b2i_maxpool_backward_f32(const float* __restrict__ x, const float* __restrict__ g,
                                                    float* __restrict__ dx, long long planes, int H, int W, int Ho,
                                                    int Wo, int kh, int kw, int sh, int sw, int ph, int pw) {
    long long n = planes * H * W;
    B2I_GRID_STRIDE(i, n) {
        long long p = i / ((long long)H * W);
        int e = (int)(i - p * H * W), yy = e / W, xx = e - yy * W;
        int r0, r1, q0, q1;
        b2i_windows(yy, kh, sh, ph, Ho, &r0, &r1);
        b2i_windows(xx, kw, sw, pw, Wo, &q0, &q1);
        float s = 0.f;
        for (int r = r0; r <= r1; r++)
            for (int q = q0; q <= q1; q++)
                if (b2i_window_argmax(x + p * H * W, H, W, r, q, kh, kw, sh, sw, ph, pw) == e) s += g[(p * Ho + r) * Wo + q];
        dx[i] = s;
    }
}

// The divisor of window (r, q): the window clipped to the padded input (countIncludePad) or to the input.
__device__ __forceinline__ int b2i_avg_div(int H, int W, int r, int q, int kh, int kw, int sh, int sw, int ph, int pw,
                                           int incl, int* y0, int* y1, int* x0, int* x1) {
    int ys = r * sh - ph, ye = min(ys + kh, H + ph), xs = q * sw - pw, xe = min(xs + kw, W + pw);
    int padded = (ye - ys) * (xe - xs);
    *y0 = max(ys, 0); *y1 = min(ye, H); *x0 = max(xs, 0); *x1 = min(xe, W);
    return incl ? padded : (*y1 - *y0) * (*x1 - *x0);
}

extern "C" __global__ void b2i_avgpool_f32(const float* __restrict__ x, float* __restrict__ y, long long planes,
                                           int H, int W, int Ho, int Wo, int kh, int kw, int sh, int sw, int ph, int pw,
                                           int incl) {
    long long n = planes * Ho * Wo;
    B2I_GRID_STRIDE(i, n) {
        long long p = i / ((long long)Ho * Wo);
        int o = (int)(i - p * Ho * Wo), r = o / Wo, q = o - r * Wo;
        int y0, y1, x0, x1;
        int div = b2i_avg_div(H, W, r, q, kh, kw, sh, sw, ph, pw, incl, &y0, &y1, &x0, &x1);
        float s = 0.f;
        for (int yy = y0; yy < y1; yy++)
            for (int xx = x0; xx < x1; xx++) s += x[(p * H + yy) * W + xx];
        y[i] = s / div;
    }
}

extern "C" __global__ void b2i_avgpool_backward_f32(const float* __restrict__ g, float* __restrict__ dx,
                                                    long long planes, int H, int W, int Ho, int Wo, int kh, int kw,
                                                    int sh, int sw, int ph, int pw, int incl) {
    long long n = planes * H * W;
    B2I_GRID_STRIDE(i, n) {
        long long p = i / ((long long)H * W);
        int e = (int)(i - p * H * W), yy = e / W, xx = e - yy * W;
        int r0, r1, q0, q1;
        b2i_windows(yy, kh, sh, ph, Ho, &r0, &r1);
        b2i_windows(xx, kw, sw, pw, Wo, &q0, &q1);
        float s = 0.f;
        for (int r = r0; r <= r1; r++) {
            for (int q = q0; q <= q1; q++) {
                int y0, y1, x0, x1;
                int div = b2i_avg_div(H, W, r, q, kh, kw, sh, sw, ph, pw, incl, &y0, &y1, &x0, &x1);
                if (yy >= y0 && yy < y1 && xx >= x0 && xx < x1) s += g[(p * Ho + r) * Wo + q] / div;
            }
        }
        dx[i] = s;
    }
}

// Adaptive average pooling: output (r, q) averages rows floor(r·H/Ho) … ceil((r+1)·H/Ho)−1, columns likewise.
extern "C" __global__ void b2i_adaptive_avgpool_f32(const float* __restrict__ x, float* __restrict__ y,
                                                    long long planes, int H, int W, int Ho, int Wo) {
    long long n = planes * Ho * Wo;
    B2I_GRID_STRIDE(i, n) {
        long long p = i / ((long long)Ho * Wo);
        int o = (int)(i - p * Ho * Wo), r = o / Wo, q = o - r * Wo;
        int y0 = (int)((long long)r * H / Ho), y1 = (int)(((long long)(r + 1) * H + Ho - 1) / Ho);
        int x0 = (int)((long long)q * W / Wo), x1 = (int)(((long long)(q + 1) * W + Wo - 1) / Wo);
        float s = 0.f;
        for (int yy = y0; yy < y1; yy++)
            for (int xx = x0; xx < x1; xx++) s += x[(p * H + yy) * W + xx];
        y[i] = s / ((y1 - y0) * (x1 - x0));
    }
}

extern "C" __global__ void b2i_adaptive_avgpool_backward_f32(const float* __restrict__ g, float* __restrict__ dx,
                                                             long long planes, int H, int W, int Ho, int Wo) {
    long long n = planes * H * W;
    B2I_GRID_STRIDE(i, n) {
        long long p = i / ((long long)H * W);
        int e = (int)(i - p * H * W), yy = e / W, xx = e - yy * W;
        float s = 0.f;
        for (int r = 0; r < Ho; r++) {
            int y0 = (int)((long long)r * H / Ho), y1 = (int)(((long long)(r + 1) * H + Ho - 1) / Ho);
            if (yy < y0 || yy >= y1) continue;
            for (int q = 0; q < Wo; q++) {
                int x0 = (int)((long long)q * W / Wo), x1 = (int)(((long long)(q + 1) * W + Wo - 1) / Wo);
                if (xx >= x0 && xx < x1) s += g[(p * Ho + r) * Wo + q] / ((y1 - y0) * (x1 - x0));
            }
        }
        dx[i] = s;
    }
}
