package brain2img.eval;

import org.apache.commons.math3.random.MersenneTwister;
import org.apache.commons.math3.random.RandomGenerator;
import org.apache.commons.math3.stat.descriptive.rank.Percentile;

import java.util.Arrays;

/** Uncertainty over the test images: bootstrap confidence intervals and paired permutation tests. */
public final class Stats {
    /** Largest n for which the permutation test enumerates all 2^n sign patterns exactly. */
    static final int EXACT_LIMIT = 16;

    private Stats() {}

    /** A mean with its 95% bootstrap percentile interval. */
    public record Interval(double mean, double low, double high) {}

    public static double mean(double[] v) {
        double s = 0;
        for (double x : v) s += x;
        return s / v.length;
    }

    /** The median (mean of the middle two for an even count); NaN for no values. v is not modified. */
    public static double median(double[] v) {
        if (v.length == 0) return Double.NaN;
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /**
     * Percentile bootstrap over images: {@code resamples} draws of n images with replacement (Mersenne
     * Twister seeded with {@code seed}, so a run is reproducible), the mean of each draw, and the 2.5th and
     * 97.5th percentiles of those means (linear interpolation between order statistics, numpy's default).
     */
    public static Interval bootstrap(double[] perImage, int resamples, long seed) {
        int n = perImage.length;
        if (n == 0) throw new IllegalArgumentException("bootstrap of no images");
        if (resamples < 1) throw new IllegalArgumentException("bootstrap needs at least one resample, got " + resamples);
        RandomGenerator rng = new MersenneTwister(seed);
        double[] means = new double[resamples];
        for (int b = 0; b < resamples; b++) {
            double s = 0;
            for (int i = 0; i < n; i++) s += perImage[rng.nextInt(n)];
            means[b] = s / n;
        }
        Percentile p = new Percentile().withEstimationType(Percentile.EstimationType.R_7);
        p.setData(means);
        return new Interval(mean(perImage), p.evaluate(2.5), p.evaluate(97.5));
    }

    /**
     * One-sided paired permutation test that {@code method} scores higher than {@code nullScores} on the same
     * images. Under the null hypothesis the two labels of each image are exchangeable, so each per-image
     * difference keeps its size but may flip sign; p = P(Σ±d ≥ Σd). Exact over all 2^n sign patterns for
     * n ≤ 16 (smallest p = 2^−n), otherwise {@code permutations} random patterns with p = (1+hits)/(1+draws).
     */
    public static double pairedPermutationP(double[] method, double[] nullScores, int permutations, long seed) {
        int n = method.length;
        if (nullScores.length != n) throw new IllegalArgumentException("paired test of " + n + " and " + nullScores.length + " scores");
        if (n == 0) throw new IllegalArgumentException("permutation test of no images");
        double[] d = new double[n];
        double observed = 0, scale = 0;
        for (int i = 0; i < n; i++) {
            d[i] = method[i] - nullScores[i];
            observed += d[i];
            scale += Math.abs(d[i]);
        }
        // sums equal to the observed one up to rounding count as "at least as large"
        double threshold = observed - 1e-12 * Math.max(scale, 1e-300);
        if (n <= EXACT_LIMIT) {
            long hits = 0, total = 1L << n;
            for (long mask = 0; mask < total; mask++) {
                double s = 0;
                for (int i = 0; i < n; i++) s += ((mask >>> i) & 1) == 0 ? d[i] : -d[i];
                if (s >= threshold) hits++;
            }
            return (double) hits / total;
        }
        if (permutations < 1) throw new IllegalArgumentException("permutation test needs at least one draw, got " + permutations);
        RandomGenerator rng = new MersenneTwister(seed);
        long hits = 0;
        for (int p = 0; p < permutations; p++) {
            double s = 0;
            for (int i = 0; i < n; i++) s += rng.nextBoolean() ? d[i] : -d[i];
            if (s >= threshold) hits++;
        }
        return (1.0 + hits) / (1.0 + permutations);
    }
}
