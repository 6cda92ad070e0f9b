package brain2img.eval;

/**
 * Correlates reconstruction feature vectors with fixed ground-truth (and training) vectors of one feature
 * space, one reconstruction at a time: the fixed vectors are standardised once and kept as float32 (the
 * networks' own precision), each reconstruction is standardised in double and every dot product accumulates
 * in double. Builds {@link NetCorrelations} without holding any reconstruction's features.
 */
public final class Correlator {
    private final float[][] truth, training;
    private final int dim;

    /** @param training the training images' vectors, or null for no memorisation check */
    public Correlator(float[][] truth, float[][] training) {
        if (truth.length < 2) throw new IllegalArgumentException("identification needs at least 2 ground truths, got " + truth.length);
        this.dim = truth[0].length;
        this.truth = standardised(truth, dim, "ground-truth");
        this.training = training == null || training.length == 0 ? null : standardised(training, dim, "training");
    }

    public int dim() {
        return dim;
    }

    public int images() {
        return truth.length;
    }

    /** A set of n reconstructions × K samples being correlated. */
    public final class Builder {
        private final double[][][] r;
        private final double[][] nearest;

        private Builder(int samples) {
            r = new double[samples][truth.length][truth.length];
            nearest = training == null ? null : new double[truth.length][samples];
        }

        /** Sample s of reconstruction j. */
        public void add(int j, int s, float[] features) {
            if (features.length != dim) throw new IllegalArgumentException("feature vector of " + features.length + " values, the ground truth's have " + dim);
            double[] v = Correlation.standardised(toDouble(features));
            for (int i = 0; i < truth.length; i++) r[s][i][j] = dot(truth[i], v);
            if (nearest != null) {
                double best = Double.NEGATIVE_INFINITY;
                for (float[] t : training) best = Math.max(best, dot(t, v));
                nearest[j][s] = best;
            }
        }

        public NetCorrelations build() {
            return new NetCorrelations(r, nearest);
        }
    }

    public Builder builder(int samples) {
        return new Builder(samples);
    }

    private static float[][] standardised(float[][] v, int dim, String what) {
        float[][] out = new float[v.length][];
        for (int i = 0; i < v.length; i++) {
            if (v[i].length != dim) throw new IllegalArgumentException(what + " feature vector " + i + " has " + v[i].length + " values, expected " + dim);
            double[] s = Correlation.standardised(toDouble(v[i]));
            out[i] = new float[dim];
            for (int j = 0; j < dim; j++) out[i][j] = (float) s[j];
        }
        return out;
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    private static double dot(float[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < b.length; i++) s += a[i] * b[i];
        return s;
    }
}
