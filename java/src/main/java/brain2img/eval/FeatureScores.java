package brain2img.eval;

/**
 * Per-image scores in one feature space, from the {@link NetCorrelations} of a set of reconstructions (the
 * published network metrics) or from flattened vectors (pixel space): ground truths {@code truth[i][d]},
 * reconstructions {@code rec[i][k][d]}, training images {@code training[t][d]}. Correlations are Pearson r in
 * double ({@link Correlation}), as {@code np.corrcoef} computes them.
 */
public final class FeatureScores {
    private FeatureScores() {}

    /** MindEye's two-way identification of every sample: [j][s] = {@link Identification#twoWay} of sample s's matrix. */
    public static double[][] twoWay(NetCorrelations c) {
        int n = c.images(), k = c.samples();
        double[][] out = new double[n][k];
        for (int s = 0; s < k; s++) {
            double[] tw = Identification.twoWay(c.r()[s]);
            for (int j = 0; j < n; j++) out[j][s] = tw[j];
        }
        return out;
    }

    /** Takagi's identification per ground truth i, on r averaged over the K samples of each reconstruction. */
    public static double[] twoWayTakagi(NetCorrelations c) {
        int n = c.images(), k = c.samples();
        double[][] mean = new double[n][n];
        for (double[][] r : c.r()) for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) mean[i][j] += r[i][j] / k;
        return Identification.twoWayTakagi(mean);
    }

    /** scipy's correlation distance 1 − r between each sample and its own ground truth: [j][s]. */
    public static double[][] distance(NetCorrelations c) {
        int n = c.images(), k = c.samples();
        double[][] out = new double[n][k];
        for (int j = 0; j < n; j++) for (int s = 0; s < k; s++) out[j][s] = 1 - c.r()[s][j][j];
        return out;
    }

    /** [j][s] = 1 when sample s of reconstruction j correlates more with some training image than with its own ground truth. */
    public static double[][] memorised(NetCorrelations c) {
        if (c.nearestTraining() == null) throw new IllegalArgumentException("no training correlations for the memorisation check");
        int n = c.images(), k = c.samples();
        double[][] out = new double[n][k];
        for (int j = 0; j < n; j++) for (int s = 0; s < k; s++) out[j][s] = c.nearestTraining()[j][s] > c.r()[s][j][j] ? 1 : 0;
        return out;
    }

    /**
     * [i][k] = 1 when sample k of image i correlates more with some training image than with its own ground
     * truth (a sign of retrieval from the training set), else 0.
     */
    public static double[][] memorised(double[][] truth, double[][] training, double[][][] rec) {
        int n = truth.length, k = samples(rec, n);
        double[][] out = new double[n][k];
        double[][] trainStd = Correlation.standardisedAll(training);
        for (int i = 0; i < n; i++) {
            double[] t = Correlation.standardised(truth[i]);
            for (int s = 0; s < k; s++) {
                double[] r = Correlation.standardised(rec[i][s]);
                if (r.length != t.length) throw new IllegalArgumentException("correlation of vectors of lengths " + t.length + " and " + r.length);
                double own = Correlation.dot(t, r), nearest = Double.NEGATIVE_INFINITY;
                for (double[] tr : trainStd) {
                    if (tr.length != r.length) throw new IllegalArgumentException("training vectors have " + tr.length + " values, reconstructions " + r.length);
                    nearest = Math.max(nearest, Correlation.dot(tr, r));
                }
                out[i][s] = nearest > own ? 1 : 0;
            }
        }
        return out;
    }

    private static int samples(double[][][] rec, int n) {
        if (rec.length != n) throw new IllegalArgumentException(rec.length + " reconstructions for " + n + " ground truths");
        int k = rec[0].length;
        for (double[][] r : rec) if (r.length != k) throw new IllegalArgumentException("images have different sample counts");
        return k;
    }
}
