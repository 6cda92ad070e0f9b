package brain2img.eval;

/**
 * The structural similarity index as MindEye reports it: both pictures resized to 425 on the short side
 * ({@link Picture#resizeShortSide}), converted to grey with skimage's rgb2gray, then
 * {@code skimage.metrics.structural_similarity(rec, gt, gaussian_weights=True, sigma=1.5,
 * use_sample_covariance=False, data_range=1.0)}.
 *
 * <p>That call: local means, variances and covariance from a Gaussian filter (σ 1.5, truncated at 3.5σ →
 * radius 5, an 11-tap kernel normalised to 1, scipy's "reflect" borders d c b a | a b c d), population
 * (not sample) covariance, K1 = 0.01, K2 = 0.03, L = 1; the SSIM map is averaged after cropping 5 pixels
 * (half the window) from every border. MindEye's code also passes {@code multichannel=True}; scikit-image
 * 0.20+ (MindEye2 pins 0.22) no longer knows that argument and ignores it, so the grey image is treated as
 * one 2-D image — what we do.
 */
public final class Ssim {
    public static final int SIZE = 425;
    static final double SIGMA = 1.5, TRUNCATE = 3.5, K1 = 0.01, K2 = 0.03, DATA_RANGE = 1.0;
    static final int RADIUS = (int) (TRUNCATE * SIGMA + 0.5); // 5: scipy's gaussian_filter radius
    static final double[] KERNEL = gaussianKernel(SIGMA, RADIUS);

    private Ssim() {}

    /** MindEye's SSIM of a reconstruction against its ground truth. */
    public static double score(Picture reconstruction, Picture groundTruth) {
        Picture r = reconstruction.resizeShortSide(SIZE).grey(), g = groundTruth.resizeShortSide(SIZE).grey();
        if (r.height() != g.height() || r.width() != g.width()) {
            throw new IllegalArgumentException("SSIM needs pictures of the same aspect, got " + r.height() + "x" + r.width()
                    + " and " + g.height() + "x" + g.width() + " after resizing");
        }
        return ssim(r.data(), g.data(), g.height(), g.width());
    }

    /** Mean SSIM of two grey (H,W) images with values in [0,1]. */
    public static double ssim(double[] x, double[] y, int h, int w) {
        int win = 2 * RADIUS + 1;
        if (h < win || w < win) throw new IllegalArgumentException("SSIM needs images of at least " + win + "x" + win + ", got " + h + "x" + w);
        if (x.length != h * w || y.length != h * w) throw new IllegalArgumentException("SSIM inputs must both be " + h + "x" + w);
        int n = h * w;
        double[] xx = new double[n], yy = new double[n], xy = new double[n];
        for (int i = 0; i < n; i++) {
            xx[i] = x[i] * x[i];
            yy[i] = y[i] * y[i];
            xy[i] = x[i] * y[i];
        }
        double[] ux = gaussianFilter(x, h, w), uy = gaussianFilter(y, h, w);
        double[] uxx = gaussianFilter(xx, h, w), uyy = gaussianFilter(yy, h, w), uxy = gaussianFilter(xy, h, w);
        double c1 = (K1 * DATA_RANGE) * (K1 * DATA_RANGE), c2 = (K2 * DATA_RANGE) * (K2 * DATA_RANGE);
        double sum = 0;
        for (int r = RADIUS; r < h - RADIUS; r++) {
            for (int c = RADIUS; c < w - RADIUS; c++) {
                int i = r * w + c;
                double mx = ux[i], my = uy[i];
                double vx = uxx[i] - mx * mx, vy = uyy[i] - my * my, vxy = uxy[i] - mx * my;
                sum += ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
            }
        }
        return sum / ((double) (h - 2 * RADIUS) * (w - 2 * RADIUS));
    }

    /** scipy.ndimage.gaussian_filter1d weights: exp(−x²/2σ²) for x = −r..r, normalised. */
    static double[] gaussianKernel(double sigma, int radius) {
        double[] k = new double[2 * radius + 1];
        double s = 0;
        for (int i = -radius; i <= radius; i++) {
            k[i + radius] = Math.exp(-0.5 * i * i / (sigma * sigma));
            s += k[i + radius];
        }
        for (int i = 0; i < k.length; i++) k[i] /= s;
        return k;
    }

    /** scipy "reflect" boundary (half-sample symmetric, period 2n): −1 → 0, n → n−1. */
    static int reflect(int i, int n) {
        int period = 2 * n;
        int m = Math.floorMod(i, period);
        return m < n ? m : period - 1 - m;
    }

    /** Separable Gaussian filter of an (H,W) image: along rows (axis 0) then columns (axis 1), as scipy does. */
    static double[] gaussianFilter(double[] img, int h, int w) {
        int[] rows = reflectedIndices(h), cols = reflectedIndices(w); // index r+k → rows[r+k+RADIUS]
        double[] tmp = new double[h * w], out = new double[h * w];
        for (int r = 0; r < h; r++) {
            int row = r * w;
            for (int k = -RADIUS; k <= RADIUS; k++) {
                double wt = KERNEL[k + RADIUS];
                int src = rows[r + k + RADIUS] * w;
                for (int c = 0; c < w; c++) tmp[row + c] += wt * img[src + c];
            }
        }
        for (int r = 0; r < h; r++) {
            int row = r * w;
            for (int c = 0; c < w; c++) {
                double s = 0;
                for (int k = -RADIUS; k <= RADIUS; k++) s += KERNEL[k + RADIUS] * tmp[row + cols[c + k + RADIUS]];
                out[row + c] = s;
            }
        }
        return out;
    }

    private static int[] reflectedIndices(int n) {
        int[] idx = new int[n + 2 * RADIUS];
        for (int i = 0; i < idx.length; i++) idx[i] = reflect(i - RADIUS, n);
        return idx;
    }
}
