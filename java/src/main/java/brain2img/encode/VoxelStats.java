package brain2img.encode;

import brain2img.tensor.Tensor;
import org.apache.commons.math3.distribution.TDistribution;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Per-voxel test statistics of an encoding model: Pearson r and R² of predictions against the measured test
 * responses (images × voxels), their p-values and Benjamini–Hochberg q-values.
 *
 * <p>p-values are one-sided (the model predicts better than chance, r &gt; 0), by either
 * <ul>
 *   <li>the analytic t test: t = r·√(n−2)/√(1−r²) against Student's t with n−2 degrees of freedom (exact for
 *       Gaussian, independent test images), or</li>
 *   <li>a permutation test: the test images' order is permuted P times (the same permutations for every voxel,
 *       keeping the voxels' dependence), p = (1 + #{r_perm ≥ r}) / (P + 1).</li>
 * </ul>
 */
public final class VoxelStats {
    private VoxelStats() {}

    /** Pearson r per column of two (n, t) matrices (0 where either column is constant). */
    public static double[] pearson(Tensor pred, Tensor actual) {
        return pearson(pred.toDoubleArray(), actual.toDoubleArray(), actual.dimInt(0), actual.dimInt(1), null);
    }

    /** R² = 1 − SSE/SST per column, SST around the column's mean of {@code actual}. */
    public static double[] r2(Tensor pred, Tensor actual) {
        int n = actual.dimInt(0), t = actual.dimInt(1);
        double[] p = pred.toDoubleArray(), a = actual.toDoubleArray();
        double[] mean = new double[t], sse = new double[t], sst = new double[t], out = new double[t];
        for (int i = 0; i < n; i++) for (int j = 0; j < t; j++) mean[j] += a[i * t + j] / n;
        for (int i = 0; i < n; i++) for (int j = 0; j < t; j++) {
            double e = a[i * t + j] - p[i * t + j], d = a[i * t + j] - mean[j];
            sse[j] += e * e;
            sst[j] += d * d;
        }
        for (int j = 0; j < t; j++) out[j] = sst[j] > 0 ? 1 - sse[j] / sst[j] : 0;
        return out;
    }

    /** Column-wise r of p (rows permuted by perm, or not) with a. */
    static double[] pearson(double[] p, double[] a, int n, int t, int[] perm) {
        double[] mp = new double[t], ma = new double[t];
        for (int i = 0; i < n; i++) for (int j = 0; j < t; j++) {
            mp[j] += p[i * t + j] / n;
            ma[j] += a[i * t + j] / n;
        }
        double[] sxy = new double[t], sxx = new double[t], syy = new double[t];
        for (int i = 0; i < n; i++) {
            int ip = perm == null ? i : perm[i];
            for (int j = 0; j < t; j++) {
                double x = p[ip * t + j] - mp[j], y = a[i * t + j] - ma[j];
                sxy[j] += x * y;
                sxx[j] += x * x;
                syy[j] += y * y;
            }
        }
        double[] r = new double[t];
        for (int j = 0; j < t; j++) r[j] = sxx[j] > 0 && syy[j] > 0 ? sxy[j] / Math.sqrt(sxx[j] * syy[j]) : 0;
        return r;
    }

    /** One-sided analytic p-value of each r from n test images. */
    public static double[] tTestP(double[] r, int n) {
        if (n < 3) throw new IllegalArgumentException("the t test needs at least 3 test images, got " + n);
        TDistribution dist = new TDistribution(null, n - 2);
        double[] p = new double[r.length];
        for (int j = 0; j < r.length; j++) {
            double rr = Math.min(r[j], 1 - 1e-15);
            double tv = rr * Math.sqrt((n - 2) / (1 - rr * rr));
            p[j] = 1 - dist.cumulativeProbability(tv);
            if (p[j] < Double.MIN_NORMAL) p[j] = Double.MIN_NORMAL;
        }
        return p;
    }

    /** One-sided permutation p-values of r(pred, actual) with {@code permutations} seeded test-image permutations. */
    public static double[] permutationP(Tensor pred, Tensor actual, int permutations, long seed) {
        int n = actual.dimInt(0), t = actual.dimInt(1);
        double[] p = pred.toDoubleArray(), a = actual.toDoubleArray();
        double[] r = pearson(p, a, n, t, null);
        int[] count = new int[t];
        SplittableRandom rng = new SplittableRandom(seed);
        int[] perm = new int[n];
        for (int k = 0; k < permutations; k++) {
            for (int i = 0; i < n; i++) perm[i] = i;
            for (int i = n - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1), x = perm[i];
                perm[i] = perm[j];
                perm[j] = x;
            }
            double[] rp = pearson(p, a, n, t, perm);
            for (int j = 0; j < t; j++) if (rp[j] >= r[j]) count[j]++;
        }
        double[] out = new double[t];
        for (int j = 0; j < t; j++) out[j] = (1.0 + count[j]) / (permutations + 1.0);
        return out;
    }

    /** Benjamini–Hochberg q-values: q_(i) = min over j ≥ i of p_(j)·m/j, capped at 1 (NaN p-values stay NaN, not counted). */
    public static double[] benjaminiHochberg(double[] p) {
        Integer[] order = java.util.stream.IntStream.range(0, p.length).filter(i -> !Double.isNaN(p[i])).boxed().toArray(Integer[]::new);
        Arrays.sort(order, (x, y) -> Double.compare(p[x], p[y]));
        int m = order.length;
        double[] q = new double[p.length];
        Arrays.fill(q, Double.NaN);
        double min = 1;
        for (int k = m - 1; k >= 0; k--) {
            min = Math.min(min, p[order[k]] * m / (k + 1));
            q[order[k]] = min;
        }
        return q;
    }
}
