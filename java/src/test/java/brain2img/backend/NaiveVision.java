package brain2img.backend;

import brain2img.tensor.Tensor;

/** Obvious double-precision loops for the vision primitives, written from PyTorch's definitions. */
final class NaiveVision {
    private NaiveVision() {}

    static double[] conv2d(Tensor x, Tensor w, Tensor bias, int groups, int s, int pt, int pb, int pl) {
        int bs = x.dimInt(0), ch = x.dimInt(1), h = x.dimInt(2), wd = x.dimInt(3);
        int oc = w.dimInt(0), cg = w.dimInt(1), kh = w.dimInt(2), kw = w.dimInt(3), og = oc / groups;
        int ho = (h + pt + pb - kh) / s + 1, wo = (wd + 2 * pl - kw) / s + 1;
        double[] out = new double[bs * oc * ho * wo];
        for (int b = 0; b < bs; b++) for (int o = 0; o < oc; o++) for (int y = 0; y < ho; y++) for (int xx = 0; xx < wo; xx++) {
            double sum = bias == null ? 0 : bias.getFloat(o);
            for (int c = 0; c < cg; c++) for (int i = 0; i < kh; i++) for (int j = 0; j < kw; j++) {
                int yy = y * s - pt + i, xj = xx * s - pl + j, ci = (o / og) * cg + c;
                if (yy < 0 || yy >= h || xj < 0 || xj >= wd) continue;
                sum += (double) x.getFloat(((long) (b * ch + ci) * h + yy) * wd + xj) * w.getFloat(((long) (o * cg + c) * kh + i) * kw + j);
            }
            out[((b * oc + o) * ho + y) * wo + xx] = sum;
        }
        return out;
    }

    static double[] convTranspose2d(Tensor x, Tensor w, Tensor bias, int groups, int s, int p, int oh, int ow) {
        int bs = x.dimInt(0), cin = x.dimInt(1), h = x.dimInt(2), wd = x.dimInt(3);
        int og = w.dimInt(1), kh = w.dimInt(2), kw = w.dimInt(3), cg = cin / groups, oc = og * groups;
        double[] out = new double[bs * oc * oh * ow];
        for (int b = 0; b < bs; b++) for (int o = 0; o < oc; o++) for (int i = 0; i < oh * ow; i++) {
            out[(b * oc + o) * oh * ow + i] = bias == null ? 0 : bias.getFloat(o);
        }
        for (int b = 0; b < bs; b++) for (int c = 0; c < cin; c++) for (int y = 0; y < h; y++) for (int xx = 0; xx < wd; xx++) {
            double v = x.getFloat(((long) (b * cin + c) * h + y) * wd + xx);
            for (int j = 0; j < og; j++) for (int ki = 0; ki < kh; ki++) for (int kj = 0; kj < kw; kj++) {
                int oy = y * s - p + ki, ox = xx * s - p + kj, o = (c / cg) * og + j;
                if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
                out[((b * oc + o) * oh + oy) * ow + ox] += v * w.getFloat(((long) (c * og + j) * kh + ki) * kw + kj);
            }
        }
        return out;
    }

    /** Pooled values with, for max pooling, the flat input index each output came from. */
    record Pooled(long[] shape, double[] values, int[] from) {}

    /** torch's output size: ⌊ or ⌈ (in + 2p − k)/s ⌉ + 1, dropping a last window that starts in the right padding. */
    static int outSize(int in, int k, int s, int p, boolean ceil) {
        double v = (double) (in + 2 * p - k) / s;
        int out = (int) (ceil ? Math.ceil(v) : Math.floor(v)) + 1;
        if (ceil && (out - 1) * s >= in + p) out--;
        return out;
    }

    static Pooled maxPool(Tensor x, int kh, int kw, int sh, int sw, int ph, int pw, boolean ceil) {
        int bs = x.dimInt(0), ch = x.dimInt(1), h = x.dimInt(2), wd = x.dimInt(3);
        int ho = outSize(h, kh, sh, ph, ceil), wo = outSize(wd, kw, sw, pw, ceil);
        double[] v = new double[bs * ch * ho * wo];
        int[] from = new int[v.length];
        for (int p = 0; p < bs * ch; p++) for (int r = 0; r < ho; r++) for (int q = 0; q < wo; q++) {
            double best = Double.NEGATIVE_INFINITY;
            int arg = -1;
            for (int i = 0; i < kh; i++) for (int j = 0; j < kw; j++) {
                int y = r * sh - ph + i, xx = q * sw - pw + j;
                if (y < 0 || y >= h || xx < 0 || xx >= wd) continue;
                double val = x.getFloat((long) p * h * wd + y * wd + xx);
                if (val > best) {
                    best = val;
                    arg = p * h * wd + y * wd + xx;
                }
            }
            v[(p * ho + r) * wo + q] = best;
            from[(p * ho + r) * wo + q] = arg;
        }
        return new Pooled(new long[]{bs, ch, ho, wo}, v, from);
    }

    static double[] route(Pooled p, Tensor g, long inputs) {
        double[] dx = new double[(int) inputs];
        for (int i = 0; i < p.from().length; i++) dx[p.from()[i]] += g.getFloat(i);
        return dx;
    }

    static Pooled avgPool(Tensor x, int kh, int kw, int sh, int sw, int ph, int pw, boolean ceil, boolean incl) {
        int bs = x.dimInt(0), ch = x.dimInt(1), h = x.dimInt(2), wd = x.dimInt(3);
        int ho = outSize(h, kh, sh, ph, ceil), wo = outSize(wd, kw, sw, pw, ceil);
        double[] v = new double[bs * ch * ho * wo];
        for (int p = 0; p < bs * ch; p++) for (int r = 0; r < ho; r++) for (int q = 0; q < wo; q++) {
            double sum = 0;
            int inside = 0, padded = 0;
            for (int i = 0; i < kh; i++) for (int j = 0; j < kw; j++) {
                int y = r * sh - ph + i, xx = q * sw - pw + j;
                if (y < h + ph && xx < wd + pw) padded++;    // window positions on the padded input
                if (y < 0 || y >= h || xx < 0 || xx >= wd) continue;
                sum += x.getFloat((long) p * h * wd + y * wd + xx);
                inside++;
            }
            v[(p * ho + r) * wo + q] = sum / (incl ? padded : inside);
        }
        return new Pooled(new long[]{bs, ch, ho, wo}, v, null);
    }

    static double[] adaptiveAvg(Tensor x, int oh, int ow) {
        int bs = x.dimInt(0), ch = x.dimInt(1), h = x.dimInt(2), wd = x.dimInt(3);
        double[] v = new double[bs * ch * oh * ow];
        for (int p = 0; p < bs * ch; p++) for (int r = 0; r < oh; r++) for (int q = 0; q < ow; q++) {
            int y0 = (int) Math.floor((double) r * h / oh), y1 = (int) Math.ceil((double) (r + 1) * h / oh);
            int x0 = (int) Math.floor((double) q * wd / ow), x1 = (int) Math.ceil((double) (q + 1) * wd / ow);
            double sum = 0;
            for (int y = y0; y < y1; y++) for (int xx = x0; xx < x1; xx++) sum += x.getFloat((long) p * h * wd + y * wd + xx);
            v[(p * oh + r) * ow + q] = sum / ((y1 - y0) * (x1 - x0));
        }
        return v;
    }

    static double act(Backend.Act act, double slope, double x) {
        return switch (act) {
            case RELU -> Math.max(0, x);
            case LEAKY_RELU -> x >= 0 ? x : slope * x;
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case SILU -> x / (1 + Math.exp(-x));
        };
    }

    static double[] crop(Tensor x, int top, int left, int h, int w) {
        int planes = x.dimInt(0) * x.dimInt(1), hh = x.dimInt(2), ww = x.dimInt(3);
        double[] out = new double[planes * h * w];
        for (int p = 0; p < planes; p++) for (int r = 0; r < h; r++) for (int q = 0; q < w; q++) {
            int y = top + r, xx = left + q;
            if (y >= 0 && y < hh && xx >= 0 && xx < ww) out[(p * h + r) * w + q] = x.getFloat((long) p * hh * ww + y * ww + xx);
        }
        return out;
    }
}
