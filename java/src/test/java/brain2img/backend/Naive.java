package brain2img.backend;

import brain2img.tensor.Tensor;

/**
 * Obvious scalar loops in double precision: the independent control every backend primitive is checked
 * against. Written for clarity, not speed; shapes follow {@link Backend}'s javadoc.
 */
final class Naive {
    private Naive() {}

    /** op(A)·op(B) for row-major A (m×k or k×m when transposed) and B (k×n or n×k). */
    static double[] gemm(boolean ta, boolean tb, int m, int n, int k, float[] a, float[] b) {
        double[] c = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    double av = ta ? a[p * m + i] : a[i * k + p];
                    double bv = tb ? b[j * k + p] : b[p * n + j];
                    s += av * bv;
                }
                c[i * n + j] = s;
            }
        }
        return c;
    }

    static double[] conv2d(Tensor x, Tensor w, Tensor bias, int sh, int sw, int pt, int pb, int pl, int pr) {
        int bs = x.dimInt(0), ch = x.dimInt(1), h = x.dimInt(2), wd = x.dimInt(3);
        int oc = w.dimInt(0), kh = w.dimInt(2), kw = w.dimInt(3);
        int ho = (h + pt + pb - kh) / sh + 1, wo = (wd + pl + pr - kw) / sw + 1;
        double[] out = new double[bs * oc * ho * wo];
        for (int b = 0; b < bs; b++) for (int o = 0; o < oc; o++) for (int y = 0; y < ho; y++) for (int xx = 0; xx < wo; xx++) {
            double s = bias == null ? 0 : bias.getFloat(o);
            for (int c = 0; c < ch; c++) for (int i = 0; i < kh; i++) for (int j = 0; j < kw; j++) {
                int yy = y * sh - pt + i, xj = xx * sw - pl + j;
                if (yy < 0 || yy >= h || xj < 0 || xj >= wd) continue;
                s += (double) x.getFloat(((long) (b * ch + c) * h + yy) * wd + xj)
                        * w.getFloat(((long) (o * ch + c) * kh + i) * kw + j);
            }
            out[((b * oc + o) * ho + y) * wo + xx] = s;
        }
        return out;
    }

    static double[] groupNorm(Tensor x, int groups, float[] g, float[] bt, double eps, boolean silu) {
        int bs = x.dimInt(0), ch = x.dimInt(1);
        int sp = (int) (x.numel() / ((long) bs * ch));
        int cpg = ch / groups;
        double[] out = new double[(int) x.numel()];
        for (int b = 0; b < bs; b++) {
            for (int gr = 0; gr < groups; gr++) {
                double sum = 0, sq = 0;
                int n = cpg * sp;
                for (int c = gr * cpg; c < (gr + 1) * cpg; c++) for (int i = 0; i < sp; i++) sum += x.getFloat((long) (b * ch + c) * sp + i);
                double mean = sum / n;
                for (int c = gr * cpg; c < (gr + 1) * cpg; c++) for (int i = 0; i < sp; i++) {
                    double d = x.getFloat((long) (b * ch + c) * sp + i) - mean;
                    sq += d * d;
                }
                double inv = 1 / Math.sqrt(sq / n + eps);
                for (int c = gr * cpg; c < (gr + 1) * cpg; c++) for (int i = 0; i < sp; i++) {
                    int idx = (b * ch + c) * sp + i;
                    double v = (x.getFloat(idx) - mean) * inv * g[c] + bt[c];
                    out[idx] = silu ? v / (1 + Math.exp(-v)) : v;
                }
            }
        }
        return out;
    }

    static double[] layerNorm(float[] x, int d, float[] g, float[] bt, double eps) {
        double[] out = new double[x.length];
        for (int r = 0; r < x.length / d; r++) {
            double mean = 0, var = 0;
            for (int i = 0; i < d; i++) mean += x[r * d + i];
            mean /= d;
            for (int i = 0; i < d; i++) var += (x[r * d + i] - mean) * (x[r * d + i] - mean);
            var /= d;
            for (int i = 0; i < d; i++) out[r * d + i] = (x[r * d + i] - mean) / Math.sqrt(var + eps) * g[i] + bt[i];
        }
        return out;
    }

    static double[] softmax(float[] x, int d) {
        double[] out = new double[x.length];
        for (int r = 0; r < x.length / d; r++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int i = 0; i < d; i++) max = Math.max(max, x[r * d + i]);
            for (int i = 0; i < d; i++) sum += Math.exp(x[r * d + i] - max);
            for (int i = 0; i < d; i++) out[r * d + i] = Math.exp(x[r * d + i] - max) / sum;
        }
        return out;
    }

    /** Attention with heads packed in the feature dimension, the score matrix written out in full. */
    static double[] attention(Tensor q, Tensor k, Tensor v, int heads, double scale, float[] mask, boolean causal) {
        int bs = q.dimInt(0), lq = q.dimInt(1), lk = k.dimInt(1);
        int dk = q.dimInt(2) / heads, dv = v.dimInt(2) / heads;
        double[] out = new double[bs * lq * heads * dv];
        for (int b = 0; b < bs; b++) for (int h = 0; h < heads; h++) for (int i = 0; i < lq; i++) {
            double[] s = new double[lk];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < lk; j++) {
                if (causal && j > i) {
                    s[j] = Double.NEGATIVE_INFINITY;
                    continue;
                }
                double dot = 0;
                for (int e = 0; e < dk; e++) {
                    dot += (double) q.getFloat(((long) b * lq + i) * heads * dk + h * dk + e)
                            * k.getFloat(((long) b * lk + j) * heads * dk + h * dk + e);
                }
                s[j] = scale * dot + (mask == null ? 0 : mask[i * lk + j]);
                max = Math.max(max, s[j]);
            }
            double sum = 0;
            for (int j = 0; j < lk; j++) {
                s[j] = Math.exp(s[j] - max);
                sum += s[j];
            }
            for (int e = 0; e < dv; e++) {
                double acc = 0;
                for (int j = 0; j < lk; j++) acc += s[j] / sum * v.getFloat(((long) b * lk + j) * heads * dv + h * dv + e);
                out[((b * lq + i) * heads + h) * dv + e] = acc;
            }
        }
        return out;
    }

    static double unary(Backend.Unary op, double x) {
        return switch (op) {
            case SILU -> x / (1 + Math.exp(-x));
            case GELU -> 0.5 * x * (1 + erf(x / Math.sqrt(2)));
            case QUICK_GELU -> x / (1 + Math.exp(-1.702 * x));
            case EXP -> Math.exp(x);
            case NEG -> -x;
        };
    }

    /**
     * erf by its Maclaurin series (|x| ≤ 3) or the asymptotic continued fraction (|x| > 3), both in double:
     * a second, independent formula to check the backend's Chebyshev fit against.
     */
    static double erf(double x) {
        double z = Math.abs(x);
        double r;
        if (z <= 3) {
            double term = z, sum = z;
            for (int n = 1; n < 200; n++) {
                term *= -z * z / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
            }
            r = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            double f = 0; // erfc(z) = exp(-z²)/√π · 1/(z + 1/2/(z + 1/(z + 3/2/(z + ...))))
            for (int n = 60; n >= 1; n--) f = (n / 2.0) / (z + f);
            r = 1 - Math.exp(-z * z) / Math.sqrt(Math.PI) / (z + f);
        }
        return x < 0 ? -r : r;
    }
}
