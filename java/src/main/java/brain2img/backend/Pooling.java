package brain2img.backend;

import brain2img.tensor.Tensor;
import brain2img.util.Parallel;

/** Max, average and adaptive average pooling and their input gradients on the CPU, one (image, channel) plane per task. */
final class Pooling {
    private Pooling() {}

    /** The flat in-plane index of the max of window (r,q), first one on ties; -1 for a window of padding only. */
    private static int argmax(float[] x, int base, int hh, int ww, int r, int q, int kh, int kw, int sh, int sw, int ph, int pw) {
        int y0 = r * sh - ph, x0 = q * sw - pw;
        int best = -1;
        float max = Float.NEGATIVE_INFINITY;
        for (int y = Math.max(0, y0); y < Math.min(hh, y0 + kh); y++) {
            for (int xx = Math.max(0, x0); xx < Math.min(ww, x0 + kw); xx++) {
                float v = x[base + y * ww + xx];
                if (best < 0 || v > max || Float.isNaN(v)) {
                    max = v;
                    best = y * ww + xx;
                    if (Float.isNaN(v)) return best;
                }
            }
        }
        return best;
    }

    static Tensor maxPool(Tensor x, int kh, int kw, int sh, int sw, int ph, int pw, boolean ceil, Tensor gradOut) {
        PoolShape.check(x, kh, kw, sh, sw, ph, pw);
        int planes = x.dimInt(0) * x.dimInt(1), hh = x.dimInt(2), ww = x.dimInt(3);
        int ho = PoolShape.outSize(hh, kh, sh, ph, ceil), wo = PoolShape.outSize(ww, kw, sw, pw, ceil);
        float[] xf = x.floats();
        if (gradOut == null) {
            // 2×2 stride 2 without padding (VGG's pooling): whole windows by a tight loop, the rest (ceil mode's
            // partial windows at the bottom and right) by the general one
            boolean twoByTwo = kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0;
            int fullH = twoByTwo ? hh / 2 : 0, fullW = twoByTwo ? ww / 2 : 0;
            float[] out = new float[planes * ho * wo];
            Parallel.forRange(planes, 1, (p0, p1) -> {
                for (int p = p0; p < p1; p++) {
                    int base = p * hh * ww, o = p * ho * wo;
                    if (twoByTwo) max2x2(xf, base, ww, fullH, fullW, out, o, wo);
                    for (int r = 0; r < ho; r++) for (int q = r < fullH ? fullW : 0; q < wo; q++) {
                        int a = argmax(xf, base, hh, ww, r, q, kh, kw, sh, sw, ph, pw);
                        out[o + r * wo + q] = a < 0 ? Float.NEGATIVE_INFINITY : xf[base + a];
                    }
                }
            });
            return Tensor.of(out, x.dim(0), x.dim(1), ho, wo);
        }
        checkGrad(gradOut, x.dim(0), x.dim(1), ho, wo);
        float[] g = gradOut.floats();
        float[] dx = new float[xf.length];
        Parallel.forRange(planes, 1, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int base = p * hh * ww, o = p * ho * wo;
                for (int r = 0; r < ho; r++) for (int q = 0; q < wo; q++) {
                    int a = argmax(xf, base, hh, ww, r, q, kh, kw, sh, sw, ph, pw);
                    if (a >= 0) dx[base + a] += g[o + r * wo + q];
                }
            }
        });
        return Tensor.of(dx, x.shape());
    }

    /**
     * The maxima of the whole 2×2 stride-2 windows (rows &lt; fullH, columns &lt; fullW) of one plane. Math.max
     * propagates NaN as the first-max rule does; the two differ only in which zero a ±0 tie returns.
     */
    private static void max2x2(float[] x, int base, int ww, int fullH, int fullW, float[] out, int o, int wo) {
        for (int r = 0; r < fullH; r++) {
            int top = base + 2 * r * ww, bottom = top + ww, dst = o + r * wo;
            for (int q = 0; q < fullW; q++) {
                int i = top + 2 * q, j = bottom + 2 * q;
                out[dst + q] = Math.max(Math.max(x[i], x[i + 1]), Math.max(x[j], x[j + 1]));
            }
        }
    }

    private static void checkGrad(Tensor g, long b, long c, int h, int w) {
        if (g.rank() != 4 || g.dim(0) != b || g.dim(1) != c || g.dim(2) != h || g.dim(3) != w) {
            throw new IllegalArgumentException("gradient " + g.shapeString() + " is not (" + b + "," + c + "," + h + "," + w + ")");
        }
    }

    /**
     * Average pooling forward (gradOut null: returns (B,C,ho,wo)) or backward (returns (B,C,inH,inW)); x is
     * only read for its shape in the backward direction, so the caller passes a shape-only stand-in.
     */
    static Tensor avgPool(float[] src, long bsz, long ch, int hh, int ww, int kh, int kw, int sh, int sw, int ph, int pw,
                          boolean ceil, boolean includePad, boolean backward) {
        int planes = Math.toIntExact(bsz * ch);
        int ho = PoolShape.outSize(hh, kh, sh, ph, ceil), wo = PoolShape.outSize(ww, kw, sw, pw, ceil);
        float[] dst = new float[planes * (backward ? hh * ww : ho * wo)];
        Parallel.forRange(planes, 1, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                for (int r = 0; r < ho; r++) {
                    int ys = r * sh - ph, ye = Math.min(ys + kh, hh + ph);
                    for (int q = 0; q < wo; q++) {
                        int xs = q * sw - pw, xe = Math.min(xs + kw, ww + pw);
                        int padded = (ye - ys) * (xe - xs);
                        int y0 = Math.max(ys, 0), y1 = Math.min(ye, hh), x0 = Math.max(xs, 0), x1 = Math.min(xe, ww);
                        int div = includePad ? padded : (y1 - y0) * (x1 - x0);
                        int o = (p * ho + r) * wo + q, base = p * hh * ww;
                        if (!backward) {
                            double sum = 0;
                            for (int y = y0; y < y1; y++) for (int xx = x0; xx < x1; xx++) sum += src[base + y * ww + xx];
                            dst[o] = (float) (sum / div);
                        } else {
                            float g = src[o] / div;
                            for (int y = y0; y < y1; y++) for (int xx = x0; xx < x1; xx++) dst[base + y * ww + xx] += g;
                        }
                    }
                }
            }
        });
        return backward ? Tensor.of(dst, bsz, ch, hh, ww) : Tensor.of(dst, bsz, ch, ho, wo);
    }

    /** Adaptive average pooling forward (src (B,C,hh,ww) → (B,C,oh,ow)) or backward (src is the (B,C,oh,ow) gradient). */
    static Tensor adaptiveAvg(float[] src, long bsz, long ch, int hh, int ww, int oh, int ow, boolean backward) {
        if (oh < 1 || ow < 1) throw new IllegalArgumentException("adaptive pooling to " + oh + "x" + ow);
        int planes = Math.toIntExact(bsz * ch);
        float[] dst = new float[planes * (backward ? hh * ww : oh * ow)];
        Parallel.forRange(planes, 1, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                for (int r = 0; r < oh; r++) {
                    int y0 = (int) ((long) r * hh / oh), y1 = (int) (((long) (r + 1) * hh + oh - 1) / oh);
                    for (int q = 0; q < ow; q++) {
                        int x0 = (int) ((long) q * ww / ow), x1 = (int) (((long) (q + 1) * ww + ow - 1) / ow);
                        int div = (y1 - y0) * (x1 - x0), o = (p * oh + r) * ow + q, base = p * hh * ww;
                        if (!backward) {
                            double sum = 0;
                            for (int y = y0; y < y1; y++) for (int xx = x0; xx < x1; xx++) sum += src[base + y * ww + xx];
                            dst[o] = (float) (sum / div);
                        } else {
                            float g = src[o] / div;
                            for (int y = y0; y < y1; y++) for (int xx = x0; xx < x1; xx++) dst[base + y * ww + xx] += g;
                        }
                    }
                }
            }
        });
        return backward ? Tensor.of(dst, bsz, ch, hh, ww) : Tensor.of(dst, bsz, ch, oh, ow);
    }
}
