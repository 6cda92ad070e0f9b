package brain2img.eval;

/** Pearson correlation between vectors, as {@code np.corrcoef} computes it (in double). */
public final class Correlation {
    private Correlation() {}

    /**
     * Pearson r of two equal-length vectors. A vector with zero variance has no defined r (numpy gives NaN);
     * we return 0 — no linear relation — so that a constant reconstruction scores as uninformative instead
     * of poisoning every mean.
     */
    public static double pearson(double[] a, double[] b) {
        if (a.length != b.length) throw new IllegalArgumentException("correlation of vectors of lengths " + a.length + " and " + b.length);
        return dot(standardised(a), standardised(b));
    }

    /** r[i][j] = pearson(rows[i], cols[j]); every vector is standardised once. */
    public static double[][] matrix(double[][] rows, double[][] cols) {
        double[][] a = standardisedAll(rows), b = standardisedAll(cols);
        double[][] r = new double[a.length][b.length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < b.length; j++) {
                if (a[i].length != b[j].length) {
                    throw new IllegalArgumentException("correlation of vectors of lengths " + a[i].length + " and " + b[j].length);
                }
                r[i][j] = dot(a[i], b[j]);
            }
        }
        return r;
    }

    static double[][] standardisedAll(double[][] v) {
        double[][] out = new double[v.length][];
        for (int i = 0; i < v.length; i++) out[i] = standardised(v[i]);
        return out;
    }

    /** (v − mean) / ‖v − mean‖, or all zeros for a constant vector; dot products of these are Pearson r. */
    static double[] standardised(double[] v) {
        double mean = 0;
        for (double x : v) mean += x;
        mean /= v.length;
        double[] c = new double[v.length];
        double ss = 0;
        for (int i = 0; i < v.length; i++) {
            c[i] = v[i] - mean;
            ss += c[i] * c[i];
        }
        // relative threshold: a vector that is constant up to rounding has no direction
        double scale = 0;
        for (double x : v) scale = Math.max(scale, Math.abs(x));
        if (ss <= 1e-24 * v.length * Math.max(scale * scale, Double.MIN_NORMAL)) return new double[v.length];
        double inv = 1 / Math.sqrt(ss);
        for (int i = 0; i < c.length; i++) c[i] *= inv;
        return c;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }
}
