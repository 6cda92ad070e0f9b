package brain2img.dir;

/**
 * The Kamitani lab's rescaling of decoded features before reconstruction (cookbook
 * {@code feature_std_train_mean_center}, through bdpy's {@code normalize_feature} with scalar mean and std):
 * for one image's decoded feature f of one layer (all its units),
 * <pre>
 *   d = f − μ_train;   m = mean(d), s = std(d, ddof 1)
 *   d ← (d − m) / s · mean(σ0) + m;   f ← d + μ_train
 * </pre>
 * μ_train is the per-unit mean of the training images' features; σ0 the per-channel feature SD over natural
 * images (here: over the training images and all spatial positions of the channel, ddof 1), averaged over
 * channels to one number. Decoded features are too smooth (ridge shrinks them); this gives each image's
 * deviation from the training mean the spread natural images have.
 */
public final class FeatureRescale {
    private FeatureRescale() {}

    /**
     * Rescales one image's decoded feature in place.
     *
     * @param f         the decoded values of one image at one layer (units)
     * @param trainMean μ_train (units)
     * @param sigma0    mean over channels of σ0
     */
    public static void apply(float[] f, float[] trainMean, double sigma0) {
        if (f.length != trainMean.length) {
            throw new IllegalArgumentException("feature has " + f.length + " units but the training mean " + trainMean.length);
        }
        int n = f.length;
        double sum = 0;
        for (int i = 0; i < n; i++) sum += f[i] - trainMean[i];
        double m = sum / n, ss = 0;
        for (int i = 0; i < n; i++) {
            double d = f[i] - trainMean[i] - m;
            ss += d * d;
        }
        double s = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
        double gain = s > 0 ? sigma0 / s : 0; // a constant decoding has no spread to match: it stays at its mean
        for (int i = 0; i < n; i++) {
            double d = f[i] - trainMean[i] - m;
            f[i] = (float) (d * gain + m + trainMean[i]);
        }
    }

    /**
     * Accumulates σ0: per-channel sums over images and positions, fed one image block at a time.
     * Layout of a unit index: channel-major (C, H·W) as torch's (C,H,W); fc layers have H·W = 1.
     */
    public static final class ChannelStd {
        private final int channels, positions;
        private final double[] sum, sumSq;
        private long images;

        public ChannelStd(int channels, int positions) {
            this.channels = channels;
            this.positions = positions;
            this.sum = new double[channels];
            this.sumSq = new double[channels];
        }

        /** Adds rows of a (images, channels·positions) block whose columns start at unit u0 (a whole-channel block or part of one). */
        public void add(float[] block, int rows, int u0, int width) {
            for (int r = 0; r < rows; r++) {
                int o = r * width;
                for (int j = 0; j < width; j++) {
                    int c = (u0 + j) / positions;
                    double v = block[o + j];
                    sum[c] += v;
                    sumSq[c] += v * v;
                }
            }
            if (u0 == 0) images += rows;
        }

        /** The channels' SDs (ddof 1) averaged over channels. */
        public double meanStd() {
            long cnt = images * positions;
            if (cnt < 2) throw new IllegalStateException("σ0 needs at least 2 values per channel, got " + cnt);
            double acc = 0;
            for (int c = 0; c < channels; c++) {
                double mean = sum[c] / cnt;
                acc += Math.sqrt(Math.max(0, (sumSq[c] - cnt * mean * mean) / (cnt - 1)));
            }
            return acc / channels;
        }
    }
}
