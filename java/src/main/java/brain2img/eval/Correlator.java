package brain2img.eval;

import brain2img.util.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Correlates reconstruction feature vectors with fixed ground-truth (and training) vectors of one feature
 * space, one reconstruction at a time: the fixed vectors are standardised once and kept as float32 (the
 * networks' own precision), each reconstruction is standardised in double, then float32. A dot product sums
 * float32 products in Vector API lanes over chunks of {@link #CHUNK} values and the chunks in double (relative
 * error ~1e-6 at AlexNet's 184,512 values), over the cores. Builds {@link NetCorrelations} without holding any
 * reconstruction's features.
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
            float[] v = toFloat(Correlation.standardised(toDouble(features)));
            double[] own = new double[truth.length];
            Parallel.forRange(truth.length, 16, (from, to) -> {
                for (int i = from; i < to; i++) own[i] = dot(truth[i], v);
            });
            for (int i = 0; i < truth.length; i++) r[s][i][j] = own[i];
            if (nearest != null) {
                double[] t = new double[training.length];
                Parallel.forRange(training.length, 16, (from, to) -> {
                    for (int i = from; i < to; i++) t[i] = dot(training[i], v);
                });
                nearest[j][s] = java.util.Arrays.stream(t).max().orElseThrow();
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

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }

    static final int CHUNK = 4096;
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    /** As the CPU backend: {@code -Dbrain2img.vector=false} turns the Vector API off. */
    private static final boolean VECTOR = !"false".equals(System.getProperty("brain2img.vector"));

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int c0 = 0; c0 < b.length; c0 += CHUNK) {
            int c1 = Math.min(b.length, c0 + CHUNK), i = c0;
            float part = 0;
            if (VECTOR) {
                FloatVector acc = FloatVector.zero(SPECIES);
                for (int bound = c0 + SPECIES.loopBound(c1 - c0); i < bound; i += SPECIES.length()) {
                    acc = FloatVector.fromArray(SPECIES, a, i).fma(FloatVector.fromArray(SPECIES, b, i), acc);
                }
                part = acc.reduceLanes(VectorOperators.ADD);
            }
            for (; i < c1; i++) part += a[i] * b[i];
            s += part;
        }
        return s;
    }
}
