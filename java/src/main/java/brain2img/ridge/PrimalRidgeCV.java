package brain2img.ridge;

import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import brain2img.util.Parallel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * {@link RidgeCV}'s cross-validation and refit when every training set is solved in the primal form (p×p systems),
 * with linear solves instead of eigendecompositions.
 *
 * <p>Per training set (a fold's, or all samples for the refit): X_s = (X − 1μᵀ)D⁻¹ and Y_c = Y − 1νᵀ by the training
 * means μ, ν and scales D (identity without standardisation), G = X_sᵀX_s (p,p), C = X_sᵀY_c (p,t). The held-out
 * predictions for alpha α are M_α·C with M_α = X_te,s·(G + αI)⁻¹ (n_te,p), X_te,s the held-out rows centred and scaled
 * by the training statistics: one f64 Cholesky solve of G + αI with the n_te held-out rows as right-hand sides per
 * alpha (the alphas side by side), then one GEMM per alpha over a block of targets. The refit solves (G + αI)W = C
 * once per distinct chosen alpha, for its targets. A fold thus costs n_tr·p·(p + t) multiply-adds for its moments,
 * A·(p³/3 + p²·n_te) for the solves and A·n_te·p·t for the scores, where an eigendecomposition per fold would add
 * about 9p³ and a change of basis of C. (The moments are formed from the centred training rows, not by
 * downdating all-sample sums: that cancels badly for columns nearly constant within a training set.)
 * Where G + αI is not numerically positive definite (rank-deficient G, alpha below the rounding), the solves for
 * that set fall back to G's eigendecomposition with negative eigenvalues taken as 0.
 *
 * <p>Memory beyond the inputs, b = 4 (f32) or 8 (f64): b·(n·p (X_s) + p·t (C of all samples, overwritten by the
 * coefficients) + p² (G) + (A + 1)·n_te·p (the M_α, X_te)) + 8·(3·p² + 3·n_te·p) (G in f64 and two solves in flight)
 * plus target blocks of b·(n + n_te + p) bytes per target, sized to {@link RidgeCV#BLOCK_BYTES}.
 */
final class PrimalRidgeCV {
    private final DenseLinAlg la;
    private final Tensor x, y;
    private final RidgeOptions opt;
    private final DType dt;
    private final int n, p, t, tb;
    private final Consumer<String> log;

    /** targetBlock > 0 forces the target block size; maxTest is the largest held-out fold. */
    PrimalRidgeCV(DenseLinAlg la, Tensor x, Tensor y, RidgeOptions opt, DType dt, int maxTest, int targetBlock,
                  Consumer<String> log) {
        this.la = la;
        this.x = x;
        this.y = y;
        this.opt = opt;
        this.dt = dt;
        this.log = log;
        n = x.dimInt(0);
        p = x.dimInt(1);
        t = y.dimInt(1);
        long perColumn = (long) dt.bytes * (n + maxTest + p);
        tb = targetBlock > 0 ? Math.min(targetBlock, t) : (int) Math.max(1, Math.min(t, RidgeCV.BLOCK_BYTES / perColumn));
    }

    /** One training set: its statistics, X_s (n_tr,p), G (p·p, f64, symmetrised) and ν (t; null without centring). */
    private record TrainingSet(int[] rows, double[] mean, double[] scale, Tensor xs, double[] g, double[] yMean) {}

    private TrainingSet trainingSet(int[] rows) {
        double[][] stats = RidgeSolve.columnStats(x, rows, opt.intercept(), opt.standardize());
        Tensor xs = Kernels.centredRows(x, rows, 0, p, stats[0], stats[1], dt);
        Tensor gram = Tensor.allocateHeap(dt, p, p);
        la.matmul(true, false, xs, xs, gram);
        double[] g = new double[p * p];
        Parallel.forRange(p, 8, (i0, i1) -> {
            for (int i = i0; i < i1; i++) for (int j = 0; j <= i; j++) {
                double v = 0.5 * (gram.getDouble((long) i * p + j) + gram.getDouble((long) j * p + i));
                g[i * p + j] = v;
                g[j * p + i] = v;
            }
        });
        double[] yMean = null;
        if (opt.intercept()) {
            yMean = Kernels.columnSums(y, rows, null);
            for (int j = 0; j < t; j++) yMean[j] /= rows.length;
        }
        return new TrainingSet(rows, stats[0], stats[1], xs, g, yMean);
    }

    /** C = X_sᵀ·Y_c for targets [c0, c1) of a training set (p, c1−c0), written into out at column offset oc, row length ldo. */
    private void targetMoments(TrainingSet ts, int c0, int c1, Tensor out, int oc, int ldo) {
        Tensor yc = Kernels.centredRows(y, ts.rows, c0, c1, ts.yMean, null, dt);
        la.gemm(true, false, p, c1 - c0, ts.rows.length, 1, ts.xs, 0, p, yc, 0, c1 - c0, 0, out, oc, ldo);
    }

    /** Adds each alpha's held-out R² of every fold into score[alpha][target] (the caller averages). */
    void crossValidate(int[] fold, int k, double[] alphas, double[][] score) {
        for (int f = 0; f < k; f++) {
            long t0 = System.nanoTime();
            int[] train = Folds.rows(fold, f, false), test = Folds.rows(fold, f, true);
            TrainingSet ts = trainingSet(train);
            Tensor xsTe = Kernels.centredRows(x, test, 0, p, ts.mean, ts.scale, DType.F64);
            Tensor[] ops = solveRows(la, ts.g, xsTe, alphas, dt);
            long t1 = System.nanoTime();
            log.accept(String.format(Locale.ROOT, "fold %d/%d: %d train / %d test rows, primal Gram %d×%d and %d Cholesky solves in %.1f s",
                    f + 1, k, train.length, test.length, p, p, alphas.length, (t1 - t0) / 1e9));
            for (int c0 = 0; c0 < t; c0 += tb) scoreBlock(ts, ops, test, c0, Math.min(t, c0 + tb), score);
            log.accept(String.format(Locale.ROOT, "fold %d/%d: scored %d alphas × %d targets in %.1f s",
                    f + 1, k, alphas.length, t, (System.nanoTime() - t1) / 1e9));
        }
    }

    /**
     * B·(G + αI)⁻¹ for every alpha, in dt, for b (m,p) and the symmetric g (p·p, kept): with b the scaled held-out
     * rows these are the operators M_α with held-out predictions M_α·C. By a Cholesky solve of G + αI in f64 per
     * alpha; if one of them is not positive definite (a rank-deficient G with rounding below −α), all of them from
     * G's eigendecomposition with negative eigenvalues taken as 0.
     */
    static Tensor[] solveRows(DenseLinAlg la, double[] g, Tensor b, double[] alphas, DType dt) {
        int m = b.dimInt(0), p = b.dimInt(1);
        Tensor[] out = new Tensor[alphas.length];
        boolean[] failed = new boolean[1];
        la.forEachIndependent(alphas.length, a -> {
            double[] ga = g.clone();
            for (int i = 0; i < p; i++) ga[i * p + i] += alphas[a];
            Tensor x = Tensor.of(b.toDoubleArray(), m, p); // rows b_i → (G + αI)⁻¹b_i, the rows of B(G + αI)⁻¹ as G is symmetric
            if (la.choleskySolve(Tensor.of(ga, p, p), x)) out[a] = dt == DType.F64 ? x : x.to(dt);
            else failed[0] = true;
        });
        return failed[0] ? eigenSolveRows(la, g, b, alphas, dt) : out;
    }

    /** B·Eᵀ·diag(1/(max(λ, 0) + α))·E for every alpha from G = EᵀΛE, in f64, returned in dt. */
    private static Tensor[] eigenSolveRows(DenseLinAlg la, double[] g, Tensor b, double[] alphas, DType dt) {
        int m = b.dimInt(0), p = b.dimInt(1);
        Tensor e = Tensor.of(g.clone(), p, p);
        double[] lambda = la.eigh(e);
        Tensor z = Tensor.allocateHeap(DType.F64, m, p), zd = Tensor.allocateHeap(DType.F64, m, p);
        la.matmul(false, true, b.dtype() == DType.F64 ? b : b.to(DType.F64), e, z);
        Tensor[] out = new Tensor[alphas.length];
        double[] dinv = new double[p];
        for (int a = 0; a < alphas.length; a++) {
            for (int i = 0; i < p; i++) dinv[i] = 1 / (Math.max(0, lambda[i]) + alphas[a]);
            Kernels.scaleColumns(z, dinv, zd);
            Tensor x = Tensor.allocateHeap(DType.F64, m, p);
            la.matmul(false, false, zd, e, x);
            out[a] = dt == DType.F64 ? x : x.to(dt);
        }
        return out;
    }

    /** R² of every alpha on the held-out rows for targets [c0, c1). */
    private void scoreBlock(TrainingSet ts, Tensor[] ops, int[] test, int c0, int c1, double[][] score) {
        int w = c1 - c0, nTe = test.length;
        // SST about the held-out mean of the raw values (exactly 0 for a constant target, which R² treats apart)
        Tensor yTe = Kernels.centredRows(y, test, c0, c1, null, null, dt);
        double[] teMean = Kernels.columnSums(yTe), sst = new double[w];
        for (int j = 0; j < w; j++) teMean[j] /= nTe;
        Tensor pred = Tensor.allocateHeap(dt, nTe, w);
        Kernels.addSquaredDifferences(yTe, teMean, pred, sst); // pred is still zero here
        // predictions are about the training mean ν: SSE = Σ (y − ν − pred)²
        double[] nu = ts.yMean == null ? null : Arrays.copyOfRange(ts.yMean, c0, c1);
        Tensor c = Tensor.allocateHeap(dt, p, w);
        targetMoments(ts, c0, c1, c, 0, w);
        double[] sse = new double[w];
        for (int a = 0; a < ops.length; a++) {
            la.matmul(false, false, ops[a], c, pred);
            Arrays.fill(sse, 0);
            Kernels.addSquaredDifferences(yTe, nu, pred, sse);
            for (int j = 0; j < w; j++) score[a][c0 + j] += RidgeScores.r2(sse[j], sst[j]);
        }
    }

    /**
     * Coefficients (p,t) and intercept (t) refitted on all samples, alpha per target: C of all samples, then for
     * each distinct alpha one Cholesky solve (G + αI)W = C for its targets (as rows: their columns of C, at most tb
     * at a time; the solves run side by side), written over C. Also returns x_mean and x_scale.
     */
    Tensor[] refit(double[] chosen) {
        long t0 = System.nanoTime();
        int[] all = new int[n];
        Arrays.setAll(all, i -> i);
        TrainingSet ts = trainingSet(all);
        Tensor coef = Tensor.allocateHeap(dt, p, t);
        for (int c0 = 0; c0 < t; c0 += tb) targetMoments(ts, c0, Math.min(t, c0 + tb), coef, c0, t);
        double[] distinct = Arrays.stream(chosen).distinct().sorted().toArray();
        List<int[]> parts = new ArrayList<>(); // the targets of one alpha, at most tb of them
        List<Double> partAlpha = new ArrayList<>();
        for (double alpha : distinct) {
            int[] cols = IntStream.range(0, t).filter(j -> chosen[j] == alpha).toArray();
            for (int r0 = 0; r0 < cols.length; r0 += tb) {
                parts.add(Arrays.copyOfRange(cols, r0, Math.min(cols.length, r0 + tb)));
                partAlpha.add(alpha);
            }
        }
        la.forEachIndependent(parts.size(), k -> {
            int[] part = parts.get(k);
            double alpha = partAlpha.get(k);
            double[] ga = ts.g.clone();
            for (int i = 0; i < p; i++) ga[i * p + i] += alpha;
            Tensor rhs = columns(coef, part);
            Tensor w = la.choleskySolve(Tensor.of(ga, p, p), rhs) ? rhs
                    : eigenSolveRows(la, ts.g, columns(coef, part), new double[]{alpha}, DType.F64)[0];
            writeColumns(coef, part, CpuDenseLinAlg.doubles(w));
        });
        Tensor intercept = Tensor.allocateHeap(dt, t);
        if (ts.yMean != null) for (int j = 0; j < t; j++) intercept.setDouble(j, ts.yMean[j]);
        log.accept(String.format(Locale.ROOT, "refit on all %d rows (primal, Cholesky per distinct alpha: %d) in %.1f s",
                n, distinct.length, (System.nanoTime() - t0) / 1e9));
        return new Tensor[]{coef, intercept, Tensor.of(ts.mean, p).to(dt), Tensor.of(ts.scale, p).to(dt)};
    }

    /** Rows r = the columns part[r] of m (p,t), in f64: (part.length, p). */
    private Tensor columns(Tensor m, int[] part) {
        double[] out = new double[part.length * p];
        for (int r = 0; r < part.length; r++) for (int i = 0; i < p; i++) out[r * p + i] = m.getDouble((long) i * t + part[r]);
        return Tensor.of(out, part.length, p);
    }

    /** Writes the rows of w (part.length, p) as the columns part[r] of m (p,t). */
    private void writeColumns(Tensor m, int[] part, double[] w) {
        for (int r = 0; r < part.length; r++) for (int i = 0; i < p; i++) m.setDouble((long) i * t + part[r], w[r * p + i]);
    }
}
