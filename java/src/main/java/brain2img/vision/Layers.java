package brain2img.vision;

import brain2img.backend.Backend;
import brain2img.tensor.Tensor;
import brain2img.vision.grad.Tape;

/** The weighted layers of the CNNs, loaded by checkpoint key, BatchNorm folded into the convolution before it. */
final class Layers {
    private Layers() {}

    /**
     * A convolution with its bias (the folded BatchNorm's shift where there is one): w (O,C/groups,kh,kw).
     * Square stride as in all of torchvision's CNNs here; padding per axis (Inception's 1×7 and 7×1 kernels).
     */
    record Conv(Tensor w, Tensor b, int groups, int stride, int padH, int padW) {
        Tensor apply(Tape t, Tensor x) {
            return t.conv2d(x, w, b, groups, stride, stride, padH, padH, padW, padW);
        }

        int outChannels() { return w.dimInt(0); }
    }

    record Linear(Tensor w, Tensor b) {
        Tensor apply(Tape t, Tensor x) {
            return t.linear(x, w, b);
        }
    }

    /**
     * Reads {@code key.weight} (O, in/groups, k, k) with {@code in} input channels (-1: any) and, unless
     * {@code bn} is null, folds the BatchNorm {@code bn.*} (running statistics, eps) into it:
     * w' = w·γ/√(σ²+ε), b' = (b − μ)·γ/√(σ²+ε) + β, computed in double. Null (after noting the problem) when
     * anything is missing or mis-shaped.
     */
    static Conv conv(Params p, String key, boolean bias, String bn, double eps, long in, int groups, int stride, int pad) {
        return conv(p, key, bias, bn, eps, in, groups, stride, pad, pad);
    }

    /** Padding "same" for odd kernels, (kh−1)/2 by (kw−1)/2, read off the weight's shape. */
    static final int SAME = -1;

    static Conv conv(Params p, String key, boolean bias, String bn, double eps, long in, int groups, int stride,
                     int padH, int padW) {
        Tensor w = p.host(key + ".weight", -1, in < 0 ? -1 : in / groups, -1, -1);
        Tensor b = bias ? p.host(key + ".bias", w == null ? -1 : w.dim(0)) : null;
        if (w == null || (bias && b == null)) return null;
        if (w.dim(0) % groups != 0) {
            p.problem("'" + key + ".weight' has " + w.dim(0) + " output channels, not divisible into " + groups + " groups");
            return null;
        }
        int o = w.dimInt(0);
        int ph = padH == SAME ? (w.dimInt(2) - 1) / 2 : padH, pw = padW == SAME ? (w.dimInt(3) - 1) / 2 : padW;
        if (bn == null) return new Conv(p.backend().upload(w), b == null ? null : p.backend().upload(b), groups, stride, ph, pw);
        Tensor gamma = p.host(bn + ".weight", o), beta = p.host(bn + ".bias", o);
        Tensor mean = p.host(bn + ".running_mean", o), var = p.host(bn + ".running_var", o);
        if (gamma == null || beta == null || mean == null || var == null) return null;
        float[] wf = w.toFloatArray();
        float[] bf = new float[o];
        int per = wf.length / o;
        for (int c = 0; c < o; c++) {
            double s = gamma.getFloat(c) / Math.sqrt(var.getFloat(c) + eps);
            for (int i = 0; i < per; i++) wf[c * per + i] = (float) (wf[c * per + i] * s);
            double b0 = b == null ? 0 : b.getFloat(c);
            bf[c] = (float) ((b0 - mean.getFloat(c)) * s + beta.getFloat(c));
        }
        Backend be = p.backend();
        return new Conv(be.upload(Tensor.of(wf, w.shape())), be.upload(Tensor.of(bf, o)), groups, stride, ph, pw);
    }

    /** {@code key.weight} (out, in) and {@code key.bias}; in = -1 accepts any width. */
    static Linear linear(Params p, String key, long in) {
        Tensor w = p.get(key + ".weight", -1, in);
        Tensor b = p.get(key + ".bias", w == null ? -1 : w.dim(0));
        return w == null || b == null ? null : new Linear(w, b);
    }
}
