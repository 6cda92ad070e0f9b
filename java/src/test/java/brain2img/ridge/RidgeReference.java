package brain2img.ridge;

import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.CholeskyDecomposition;
import org.apache.commons.math3.linear.RealMatrix;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The independent float64 closed form the engine is tested against: per fold and per alpha, solve
 * (XᵀX + αI) W = XᵀY by Cholesky (Commons Math) on the centred/scaled training part, score R² on the
 * held-out part, average, choose, refit. Written from the semantics, sharing no code with the engine.
 */
final class RidgeReference {
    double[][] coef;      // (p, t)
    double[] intercept;   // (t)
    double[] alpha;       // (t)
    double[][] cvScore;   // (A, t)
    double[] margin;      // per target: best mean score minus the runner-up (how clear the choice is)
    double[] xMean, xScale;

    static RidgeReference fit(double[][] x, double[][] y, double[] alphas, int k, int[] groups,
                              boolean perTarget, boolean standardize, boolean intercept) {
        int n = x.length, t = y[0].length;
        int[] fold = folds(n, k, groups);
        RidgeReference ref = new RidgeReference();
        ref.cvScore = new double[alphas.length][t];
        for (int f = 0; f < k; f++) {
            List<Integer> tr = new ArrayList<>(), te = new ArrayList<>();
            for (int i = 0; i < n; i++) (fold[i] == f ? te : tr).add(i);
            Prep prep = new Prep(x, y, tr, standardize, intercept);
            for (int a = 0; a < alphas.length; a++) {
                double[][] w = prep.solve(alphas[a]);
                for (int j = 0; j < t; j++) {
                    double mean = 0;
                    for (int i : te) mean += y[i][j];
                    mean /= te.size();
                    double sse = 0, sst = 0;
                    for (int i : te) {
                        double pred = prep.yMean[j];
                        for (int c = 0; c < x[0].length; c++) pred += (x[i][c] - prep.mean[c]) / prep.scale[c] * w[c][j];
                        sse += (y[i][j] - pred) * (y[i][j] - pred);
                        sst += (y[i][j] - mean) * (y[i][j] - mean);
                    }
                    ref.cvScore[a][j] += (1 - sse / sst) / k;
                }
            }
        }
        ref.alpha = new double[t];
        ref.margin = new double[t];
        double[] meanOverTargets = new double[alphas.length];
        for (int a = 0; a < alphas.length; a++) for (int j = 0; j < t; j++) meanOverTargets[a] += ref.cvScore[a][j] / t;
        for (int j = 0; j < t; j++) {
            double[] s = new double[alphas.length];
            for (int a = 0; a < alphas.length; a++) s[a] = perTarget ? ref.cvScore[a][j] : meanOverTargets[a];
            int best = 0;
            for (int a = 1; a < alphas.length; a++) {
                if (s[a] > s[best] || (s[a] == s[best] && alphas[a] > alphas[best])) best = a;
            }
            double second = Double.NEGATIVE_INFINITY;
            for (int a = 0; a < alphas.length; a++) if (a != best) second = Math.max(second, s[a]);
            ref.alpha[j] = alphas[best];
            ref.margin[j] = s[best] - second;
        }
        ref.refit(x, y, ref.alpha, standardize, intercept);
        return ref;
    }

    /** The final model on all samples with the given alpha per target (sets coef, intercept, xMean, xScale). */
    void refit(double[][] x, double[][] y, double[] alphaPerTarget, boolean standardize, boolean intercept) {
        int n = x.length, t = y[0].length, p = x[0].length;
        List<Integer> all = new ArrayList<>();
        for (int i = 0; i < n; i++) all.add(i);
        Prep prep = new Prep(x, y, all, standardize, intercept);
        coef = new double[p][t];
        Map<Double, double[][]> byAlpha = new LinkedHashMap<>();
        for (int j = 0; j < t; j++) {
            double[][] w = byAlpha.computeIfAbsent(alphaPerTarget[j], prep::solve);
            for (int c = 0; c < p; c++) coef[c][j] = w[c][j];
        }
        this.intercept = prep.yMean;
        xMean = prep.mean;
        xScale = prep.scale;
    }

    /** numpy.array_split over the samples, or over the distinct groups in order of first appearance. */
    static int[] folds(int n, int k, int[] groups) {
        List<Integer> units = new ArrayList<>();
        int[] unitOf = new int[n];
        Map<Integer, Integer> seen = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            int g = groups == null ? i : groups[i];
            Integer u = seen.get(g);
            if (u == null) {
                u = units.size();
                seen.put(g, u);
                units.add(g);
            }
            unitOf[i] = u;
        }
        // numpy: Neach, extras = divmod(N, K); sizes = extras * [Neach + 1] + (K - extras) * [Neach]
        int each = units.size() / k, extras = units.size() % k;
        int[] foldOfUnit = new int[units.size()];
        int start = 0;
        for (int f = 0; f < k; f++) {
            int size = f < extras ? each + 1 : each;
            for (int u = start; u < start + size; u++) foldOfUnit[u] = f;
            start += size;
        }
        int[] fold = new int[n];
        for (int i = 0; i < n; i++) fold[i] = foldOfUnit[unitOf[i]];
        return fold;
    }

    /** Centred/scaled training data of one fold and the closed-form solve for any alpha. */
    private static final class Prep {
        final double[] mean, scale, yMean;
        final RealMatrix xtx, xty;

        Prep(double[][] x, double[][] y, List<Integer> rows, boolean standardize, boolean intercept) {
            int p = x[0].length, t = y[0].length, m = rows.size();
            mean = new double[p];
            scale = new double[p];
            yMean = new double[t];
            double[] mu = new double[p];
            for (int i : rows) for (int c = 0; c < p; c++) mu[c] += x[i][c] / m;
            for (int c = 0; c < p; c++) {
                double v = 0;
                for (int i : rows) v += (x[i][c] - mu[c]) * (x[i][c] - mu[c]);
                double sd = Math.sqrt(v / m);
                scale[c] = standardize && sd != 0 ? sd : 1;
                mean[c] = intercept ? mu[c] : 0;
            }
            if (intercept) for (int i : rows) for (int j = 0; j < t; j++) yMean[j] += y[i][j] / m;
            double[][] xc = new double[m][p], yc = new double[m][t];
            for (int r = 0; r < m; r++) {
                int i = rows.get(r);
                for (int c = 0; c < p; c++) xc[r][c] = (x[i][c] - mean[c]) / scale[c];
                for (int j = 0; j < t; j++) yc[r][j] = y[i][j] - yMean[j];
            }
            RealMatrix xm = new Array2DRowRealMatrix(xc, false);
            xtx = xm.transpose().multiply(xm);
            xty = xm.transpose().multiply(new Array2DRowRealMatrix(yc, false));
        }

        double[][] solve(double alpha) {
            RealMatrix a = xtx.copy();
            for (int c = 0; c < a.getRowDimension(); c++) {
                a.addToEntry(c, c, alpha);
                for (int d = 0; d < c; d++) a.setEntry(d, c, a.getEntry(c, d)); // exactly symmetric
            }
            return new CholeskyDecomposition(a).getSolver().solve(xty).getData();
        }
    }
}
