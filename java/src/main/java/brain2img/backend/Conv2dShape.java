package brain2img.backend;

import brain2img.tensor.Tensor;

/**
 * The checked geometry of one {@link Backend#conv2d} call, shared by the backends so that they accept the same
 * shapes and agree on the output size: input x (batch, channels, height, width), weight w (outChannels,
 * channels, kh, kw), output (batch, outChannels, outHeight, outWidth) with
 * outHeight = (height + pt + pb − kh) / sh + 1 (floor) and outWidth likewise.
 *
 * @param pointwise a 1×1 kernel with stride 1 and no padding: the convolution is one GEMM per image
 */
public record Conv2dShape(int batch, int channels, int height, int width, int outChannels, int kh, int kw,
                          int outHeight, int outWidth, boolean pointwise) {

    /**
     * The geometry for strides (sh, sw) and paddings top/bottom/left/right; IllegalArgumentException naming
     * the shapes where x or w is not rank 4, their channel counts differ, or the output would be empty.
     */
    public static Conv2dShape of(Tensor x, Tensor w, int sh, int sw, int pt, int pb, int pl, int pr) {
        return of(x, w, 1, sh, sw, pt, pb, pl, pr);
    }

    /** The same for a grouped convolution: w is (outChannels, channels/groups, kh, kw). */
    public static Conv2dShape of(Tensor x, Tensor w, int groups, int sh, int sw, int pt, int pb, int pl, int pr) {
        if (x.rank() != 4 || w.rank() != 4 || groups < 1 || w.dim(1) * groups != x.dim(1) || w.dim(0) % groups != 0) {
            throw new IllegalArgumentException("conv2d: input " + x.shapeString() + " and weight " + w.shapeString()
                    + " must be (B,C,H,W) and " + (groups == 1 ? "(O,C,kh,kw)" : "(O,C/" + groups + ",kh,kw) with O divisible by " + groups));
        }
        int bsz = x.dimInt(0), ch = x.dimInt(1), hh = x.dimInt(2), ww = x.dimInt(3);
        int oc = w.dimInt(0), kh = w.dimInt(2), kw = w.dimInt(3);
        int ho = (hh + pt + pb - kh) / sh + 1;
        int wo = (ww + pl + pr - kw) / sw + 1;
        if (ho <= 0 || wo <= 0) throw new IllegalArgumentException("conv2d: output would be empty for " + x.shapeString());
        boolean pointwise = kh == 1 && kw == 1 && sh == 1 && sw == 1 && pt == 0 && pb == 0 && pl == 0 && pr == 0;
        return new Conv2dShape(bsz, ch, hh, ww, oc, kh, kw, ho, wo, pointwise);
    }

    /**
     * The check of {@link Backend#convTranspose2d}, which both backends make before their own geometry:
     * x (B,Cin,H,W), w (Cin,Cout/groups,kh,kw) with Cin divisible by groups, a non-empty output outH×outW.
     */
    public static void checkTransposed(Tensor x, Tensor w, int groups, int outH, int outW) {
        if (x.rank() != 4 || w.rank() != 4 || groups < 1 || w.dim(0) != x.dim(1) || x.dim(1) % groups != 0
                || outH < 1 || outW < 1) {
            throw new IllegalArgumentException("convTranspose2d: input " + x.shapeString() + " and weight "
                    + w.shapeString() + " must be (B,Cin,H,W) and (Cin,Cout/" + groups + ",kh,kw); output " + outH + "x" + outW);
        }
    }
}
