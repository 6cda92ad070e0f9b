package brain2img.ridge;

import brain2img.tensor.Tensor;

import java.util.Arrays;
import java.util.Locale;

/**
 * Per-target prediction scores: R² = 1 − SSE/SST (SST around the true values' own mean) and Pearson r.
 * A target whose true values are constant (SST = 0) scores R² = 1 if predicted exactly, else 0 (as
 * scikit-learn's {@code r2_score}); Pearson r is 0 where either side has zero variance.
 */
public final class RidgeScores {
    private final double[] r2, pearson;

    private RidgeScores(double[] r2, double[] pearson) {
        this.r2 = r2;
        this.pearson = pearson;
    }

    /** Scores of predictions yPred against yTrue, both (n, t) (or (n) for one target). */
    public static RidgeScores of(Tensor yTrue, Tensor yPred) {
        if (!yTrue.sameShape(yPred)) {
            throw new IllegalArgumentException("scores: true values " + yTrue.shapeString() + " and predictions "
                    + yPred.shapeString() + " differ in shape");
        }
        if (yTrue.rank() < 1 || yTrue.rank() > 2 || yTrue.dim(0) == 0) {
            throw new IllegalArgumentException("scores: expected (samples, targets), got " + yTrue.shapeString());
        }
        int n = yTrue.dimInt(0), t = yTrue.rank() == 2 ? yTrue.dimInt(1) : 1;
        double[] my = new double[t], mp = new double[t];
        for (int i = 0; i < n; i++) for (int j = 0; j < t; j++) {
            my[j] += yTrue.getDouble((long) i * t + j);
            mp[j] += yPred.getDouble((long) i * t + j);
        }
        for (int j = 0; j < t; j++) { my[j] /= n; mp[j] /= n; }
        double[] sse = new double[t], syy = new double[t], spp = new double[t], syp = new double[t];
        for (int i = 0; i < n; i++) for (int j = 0; j < t; j++) {
            double yv = yTrue.getDouble((long) i * t + j), pv = yPred.getDouble((long) i * t + j);
            double dy = yv - my[j], dp = pv - mp[j];
            sse[j] += (yv - pv) * (yv - pv);
            syy[j] += dy * dy;
            spp[j] += dp * dp;
            syp[j] += dy * dp;
        }
        double[] r2 = new double[t], r = new double[t];
        for (int j = 0; j < t; j++) {
            r2[j] = r2(sse[j], syy[j]);
            r[j] = syy[j] > 0 && spp[j] > 0 ? syp[j] / Math.sqrt(syy[j] * spp[j]) : 0;
        }
        return new RidgeScores(r2, r);
    }

    /** 1 − sse/sst, with the constant-target convention of the class comment. */
    public static double r2(double sse, double sst) {
        if (sst > 0) return 1 - sse / sst;
        return sse == 0 ? 1 : 0;
    }

    public double[] r2() { return r2.clone(); }

    public double[] pearson() { return pearson.clone(); }

    /** (2, t) f64: row 0 R², row 1 Pearson r. */
    public Tensor toTensor() {
        int t = r2.length;
        double[] d = new double[2 * t];
        System.arraycopy(r2, 0, d, 0, t);
        System.arraycopy(pearson, 0, d, t, t);
        return Tensor.of(d, 2, t);
    }

    /** Two lines: mean, median and the 5/25/75/95 % quantiles of R² and of r over the targets. */
    public String summary() {
        return line("R²", r2) + System.lineSeparator() + line("r ", pearson);
    }

    private static String line(String name, double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return String.format(Locale.ROOT, "%s over %d targets: mean %.4f  median %.4f  q05 %.4f  q25 %.4f  q75 %.4f  q95 %.4f",
                name, s.length, Arrays.stream(s).average().orElse(Double.NaN), quantile(s, 0.5),
                quantile(s, 0.05), quantile(s, 0.25), quantile(s, 0.75), quantile(s, 0.95));
    }

    /** Quantile of sorted values with linear interpolation (numpy's default method). */
    public static double quantile(double[] sorted, double q) {
        if (sorted.length == 0) return Double.NaN;
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
