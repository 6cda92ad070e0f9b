package brain2img.backend;

import brain2img.tensor.Tensor;
import brain2img.util.Parallel;

/**
 * torch's {@code interpolate} (align_corners=False) as separable filters: each axis is a list of taps per
 * output index (first input index, weights), applied to rows then columns; the input gradient applies the
 * same taps transposed. Also the zero-filling crop.
 *
 * <p>{@code brain2img.eval.Resize} is the metrics' own bilinear interpolate on double-precision pictures; it is
 * kept apart because this one works on f32 tensors (float source positions, as torch for float input).
 */
final class Resampling {
    private Resampling() {}

    /** For output i: input indices first[i] … first[i]+w[i].length−1 (already clamped, possibly repeated at the edges). */
    record Taps(int[][] index, double[][] weight) {}

    static Taps taps(int in, int out, Backend.Interp mode, boolean antialias) {
        if (in < 1 || out < 1) throw new IllegalArgumentException("resize " + in + " → " + out);
        return antialias ? antialiased(in, out, mode) : plain(in, out, mode);
    }

    /** upsample_bilinear2d / upsample_bicubic2d: source = scale·(i+0.5)−0.5 (clamped at 0 for bilinear). */
    private static Taps plain(int in, int out, Backend.Interp mode) {
        float scale = (float) in / out;    // torch computes the scale and source positions in float for float input
        int[][] idx = new int[out][];
        double[][] wt = new double[out][];
        for (int i = 0; i < out; i++) {
            float src = scale * (i + 0.5f) - 0.5f;
            if (mode == Backend.Interp.BILINEAR) {
                if (src < 0) src = 0;
                int i0 = (int) src;
                int i1 = i0 + (i0 < in - 1 ? 1 : 0);
                float l1 = src - i0;
                idx[i] = new int[]{i0, i1};
                wt[i] = new double[]{1f - l1, l1};
            } else {
                int i0 = (int) Math.floor(src);
                float t = src - i0;
                double a = -0.75;
                idx[i] = new int[4];
                wt[i] = new double[]{cubicFar(t + 1, a), cubicNear(t, a), cubicNear(1 - t, a), cubicFar(2 - t, a)};
                for (int k = 0; k < 4; k++) idx[i][k] = Math.min(Math.max(i0 - 1 + k, 0), in - 1);
            }
        }
        return new Taps(idx, wt);
    }

    private static double cubicNear(double x, double a) {
        return ((a + 2) * x - (a + 3)) * x * x + 1;
    }

    private static double cubicFar(double x, double a) {
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    }

    /**
     * _upsample_bilinear2d_aa / _upsample_bicubic2d_aa: taps within support = (2 or 4)/2 · max(scale,1) of the
     * centre scale·(i+0.5), weighted by the filter at (j − centre + 0.5)/max(scale,1), normalised to sum 1.
     */
    private static Taps antialiased(int in, int out, Backend.Interp mode) {
        double scale = (double) in / out;
        double half = mode == Backend.Interp.BILINEAR ? 1 : 2;
        double support = half * (scale >= 1 ? scale : 1);
        double inv = scale >= 1 ? 1 / scale : 1;
        int[][] idx = new int[out][];
        double[][] wt = new double[out][];
        for (int i = 0; i < out; i++) {
            double centre = scale * (i + 0.5);
            int lo = (int) Math.max((long) (centre - support + 0.5), 0L);
            int hi = (int) Math.min((long) (centre + support + 0.5), in);
            idx[i] = new int[hi - lo];
            wt[i] = new double[hi - lo];
            double total = 0;
            for (int j = 0; j < hi - lo; j++) {
                double x = Math.abs((j + lo - centre + 0.5) * inv);
                double f = mode == Backend.Interp.BILINEAR ? (x < 1 ? 1 - x : 0)
                        : x < 1 ? cubicNear(x, -0.5) : x < 2 ? cubicFar(x, -0.5) : 0;
                idx[i][j] = lo + j;
                wt[i][j] = f;
                total += f;
            }
            if (total != 0) for (int j = 0; j < wt[i].length; j++) wt[i][j] /= total;
        }
        return new Taps(idx, wt);
    }

    /** Forward: (B,C,H,W) → (B,C,outH,outW), columns first then rows (each plane in double). */
    static Tensor resize(Tensor x, int outH, int outW, Backend.Interp mode, boolean aa) {
        if (x.rank() != 4) throw new IllegalArgumentException("resize: input " + x.shapeString() + " is not (B,C,H,W)");
        int planes = x.dimInt(0) * x.dimInt(1), hh = x.dimInt(2), ww = x.dimInt(3);
        Taps tx = taps(ww, outW, mode, aa), ty = taps(hh, outH, mode, aa);
        float[] xf = x.floats();
        float[] out = new float[planes * outH * outW];
        Parallel.forRange(planes, 1, (p0, p1) -> {
            double[] mid = new double[hh * outW];
            for (int p = p0; p < p1; p++) {
                int base = p * hh * ww;
                for (int y = 0; y < hh; y++) {
                    for (int q = 0; q < outW; q++) {
                        double s = 0;
                        for (int k = 0; k < tx.index[q].length; k++) s += tx.weight[q][k] * xf[base + y * ww + tx.index[q][k]];
                        mid[y * outW + q] = s;
                    }
                }
                for (int r = 0; r < outH; r++) {
                    for (int q = 0; q < outW; q++) {
                        double s = 0;
                        for (int k = 0; k < ty.index[r].length; k++) s += ty.weight[r][k] * mid[ty.index[r][k] * outW + q];
                        out[(p * outH + r) * outW + q] = (float) s;
                    }
                }
            }
        });
        return Tensor.of(out, x.dim(0), x.dim(1), outH, outW);
    }

    /** Input gradient of {@link #resize}: g (B,C,outH,outW) → (B,C,inH,inW) through the transposed taps. */
    static Tensor resizeBackward(Tensor g, int inH, int inW, Backend.Interp mode, boolean aa) {
        if (g.rank() != 4) throw new IllegalArgumentException("resize backward: gradient " + g.shapeString() + " is not (B,C,H,W)");
        int planes = g.dimInt(0) * g.dimInt(1), outH = g.dimInt(2), outW = g.dimInt(3);
        Taps tx = taps(inW, outW, mode, aa), ty = taps(inH, outH, mode, aa);
        float[] gf = g.floats();
        float[] dx = new float[planes * inH * inW];
        Parallel.forRange(planes, 1, (p0, p1) -> {
            double[] mid = new double[inH * outW];
            double[] acc = new double[inH * inW];
            for (int p = p0; p < p1; p++) {
                java.util.Arrays.fill(mid, 0);
                java.util.Arrays.fill(acc, 0);
                for (int r = 0; r < outH; r++) {
                    for (int k = 0; k < ty.index[r].length; k++) {
                        double w = ty.weight[r][k];
                        int row = ty.index[r][k] * outW, src = (p * outH + r) * outW;
                        for (int q = 0; q < outW; q++) mid[row + q] += w * gf[src + q];
                    }
                }
                for (int y = 0; y < inH; y++) {
                    for (int q = 0; q < outW; q++) {
                        double m = mid[y * outW + q];
                        for (int k = 0; k < tx.index[q].length; k++) acc[y * inW + tx.index[q][k]] += tx.weight[q][k] * m;
                    }
                }
                for (int i = 0; i < inH * inW; i++) dx[p * inH * inW + i] = (float) acc[i];
            }
        });
        return Tensor.of(dx, g.dim(0), g.dim(1), inH, inW);
    }

    static Tensor crop(Tensor x, int top, int left, int h, int w) {
        if (x.rank() != 4 || h < 1 || w < 1) throw new IllegalArgumentException("crop " + h + "x" + w + " of " + x.shapeString());
        int planes = x.dimInt(0) * x.dimInt(1), hh = x.dimInt(2), ww = x.dimInt(3);
        float[] xf = x.floats();
        float[] out = new float[planes * h * w];
        int q0 = Math.max(0, -left), q1 = Math.min(w, ww - left);
        Parallel.forRange(planes, 4, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                for (int r = 0; r < h; r++) {
                    int y = top + r;
                    if (y < 0 || y >= hh || q1 <= q0) continue;
                    System.arraycopy(xf, (p * hh + y) * ww + left + q0, out, (p * h + r) * w + q0, q1 - q0);
                }
            }
        });
        return Tensor.of(out, x.dim(0), x.dim(1), h, w);
    }
}
