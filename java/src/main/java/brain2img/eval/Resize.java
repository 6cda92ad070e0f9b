package brain2img.eval;

/**
 * Separable bilinear resampling exactly as {@code torch.nn.functional.interpolate(mode="bilinear",
 * align_corners=False, antialias=True)} — what torchvision 0.17's {@code Resize} (MindEye2's pinned version,
 * antialias on by default for tensors) does before PixCorr and SSIM — or with {@code antialias=False}, the
 * plain two-tap interpolation MindEye2's feature-network preprocessing uses (torchvision 0.16 tensor Resize).
 *
 * <p>For each output index i the source centre is {@code scale·(i+0.5)} with {@code scale = in/out}; the taps
 * are the input pixels within {@code support = max(scale,1)} of it, weighted by the triangle
 * {@code max(0, 1−|j+0.5−centre|/max(scale,1))} and normalised to sum 1. When upsampling this is ordinary
 * half-pixel bilinear interpolation with edge clamping; when downsampling the triangle widens (antialiasing).
 *
 * <p>The backend's {@code Resampling} (behind {@code Backend.resize}) implements the same interpolate for f32
 * tensors, with torch's float source positions in the plain mode; this one stays separate because the metrics
 * work on double-precision {@link Picture}s, and routing them through f32 tensors would change their values.
 */
final class Resize {
    private Resize() {}

    /** Taps of one axis: for output i, input indices first[i] .. first[i]+weights[i].length−1. */
    record Taps(int[] first, double[][] weights) {}

    static Taps taps(int in, int out) {
        return taps(in, out, true);
    }

    /**
     * Without antialias torch reads, for output i, source {@code max(0, scale·(i+0.5)−0.5)} between its floor
     * i0 and {@code min(i0+1, in−1)} with weights 1−λ, λ — two taps whatever the scale, so downsampling aliases.
     */
    static Taps taps(int in, int out, boolean antialias) {
        if (antialias) return antialiasedTaps(in, out);
        double scale = (double) in / out;
        int[] first = new int[out];
        double[][] weights = new double[out][];
        for (int i = 0; i < out; i++) {
            double src = Math.max(0, scale * (i + 0.5) - 0.5);
            int i0 = Math.min((int) src, in - 1);
            double lambda = src - i0;
            first[i] = i0;
            weights[i] = i0 + 1 < in ? new double[]{1 - lambda, lambda} : new double[]{1};
        }
        return new Taps(first, weights);
    }

    private static Taps antialiasedTaps(int in, int out) {
        double scale = (double) in / out;
        double support = scale >= 1 ? scale : 1.0;
        double invScale = scale >= 1 ? 1.0 / scale : 1.0;
        int[] first = new int[out];
        double[][] weights = new double[out][];
        for (int i = 0; i < out; i++) {
            double centre = scale * (i + 0.5);
            // (long) truncates towards zero like the reference's static_cast<int64_t>
            int lo = (int) Math.max((long) (centre - support + 0.5), 0L);
            int hi = (int) Math.min((long) (centre + support + 0.5), in);
            double[] w = new double[hi - lo];
            double total = 0;
            for (int j = 0; j < w.length; j++) {
                double x = Math.abs((j + lo - centre + 0.5) * invScale);
                w[j] = x < 1 ? 1 - x : 0;
                total += w[j];
            }
            if (total != 0) for (int j = 0; j < w.length; j++) w[j] /= total;
            first[i] = lo;
            weights[i] = w;
        }
        return new Taps(first, weights);
    }

    /** (C,H,W) → (C,outH,outW) with antialias: rows first, then columns (the filter is separable). */
    static double[] bilinear(double[] src, int channels, int h, int w, int outH, int outW) {
        return bilinear(src, channels, h, w, outH, outW, true);
    }

    static double[] bilinear(double[] src, int channels, int h, int w, int outH, int outW, boolean antialias) {
        if (outH < 1 || outW < 1) throw new IllegalArgumentException("resize target " + outH + "x" + outW);
        Taps tx = taps(w, outW, antialias), ty = taps(h, outH, antialias);
        double[] mid = new double[channels * h * outW]; // (C,H,outW)
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < h; y++) {
                int row = (c * h + y) * w, orow = (c * h + y) * outW;
                for (int x = 0; x < outW; x++) {
                    double[] wt = tx.weights[x];
                    int f = tx.first[x];
                    double s = 0;
                    for (int j = 0; j < wt.length; j++) s += wt[j] * src[row + f + j];
                    mid[orow + x] = s;
                }
            }
        }
        double[] out = new double[channels * outH * outW];
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < outH; y++) {
                double[] wt = ty.weights[y];
                int f = ty.first[y];
                int orow = (c * outH + y) * outW;
                for (int j = 0; j < wt.length; j++) {
                    int irow = (c * h + f + j) * outW;
                    double wj = wt[j];
                    for (int x = 0; x < outW; x++) out[orow + x] += wj * mid[irow + x];
                }
            }
        }
        return out;
    }
}
