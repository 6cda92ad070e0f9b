package brain2img.backend;

import brain2img.tensor.Tensor;

/**
 * The pooling geometry of {@link Backend#maxPool2d} and {@link Backend#avgPool2d}, shared by the backends (as
 * {@link Conv2dShape} is for conv2d) so that they accept the same windows and agree on the output size:
 * input (B,C,H,W), window kh×kw, stride sh×sw, padding ph×pw on each side, dilation 1.
 */
public final class PoolShape {
    private PoolShape() {}

    /** PyTorch's pooling output size: the last window must start inside the input or its left padding. */
    public static int outSize(int in, int k, int s, int pad, boolean ceil) {
        int span = in + 2 * pad - k;
        if (span < 0) throw new IllegalArgumentException("pooling: window " + k + " larger than padded input " + (in + 2 * pad));
        int out = (ceil ? Math.floorDiv(span + s - 1, s) : Math.floorDiv(span, s)) + 1;
        if (ceil && (out - 1) * s >= in + pad) out--;
        return out;
    }

    /** IllegalArgumentException unless x is (B,C,H,W), the window and stride positive and the padding at most half the window. */
    public static void check(Tensor x, int kh, int kw, int sh, int sw, int ph, int pw) {
        if (x.rank() != 4 || kh < 1 || kw < 1 || sh < 1 || sw < 1 || ph < 0 || pw < 0 || 2 * ph > kh || 2 * pw > kw) {
            throw new IllegalArgumentException("pooling " + kh + "x" + kw + " stride " + sh + "x" + sw + " pad " + ph + "x" + pw
                    + " of " + x.shapeString() + " (needs (B,C,H,W) and padding at most half the window)");
        }
    }
}
