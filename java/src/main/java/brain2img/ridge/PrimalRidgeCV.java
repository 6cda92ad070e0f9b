package brain2img.ridge;

import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import brain2img.util.Parallel;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * {@link RidgeCV}'s cross-validation and refit when every training set is solved in the primal form (p×p
 * systems), with the moments shared between the folds and the refit instead of recomputed from every training set.
 *
 * <p>X and Y are shifted once by their means over all samples (m, m_y; zero without intercept): Xg = X − 1mᵀ (n,p),
 * Yg = Y − 1m_yᵀ. Over all samples S = XgᵀXg (p,p) and P = XgᵀYg (p,t); over a fold's held-out rows
 * T = Xg_teᵀXg_te and P_te = Xg_teᵀYg_te. The training rows' moments about their own means are then exactly
 * <pre>
 *   G = S − T − n_tr·δδᵀ,   C = P − P_te − n_tr·δεᵀ,
 * </pre>
 * δ, ε the training means of Xg, Yg (p and t). With D = diag(scale) (standardisation) and G' = D⁻¹GD⁻¹, the held-out
 * predictions for alpha α are M_α·D⁻¹C with M_α = X_te,s·(G' + αI)⁻¹ (n_te,p), X_te,s the held-out rows centred and
 * scaled by the training statistics: one f64 Cholesky solve of G' + αI with the n_te held-out rows as right-hand
 * sides per alpha (the alphas side by side), then one GEMM per alpha over all targets. The refit solves
 * (G' + αI)W = D⁻¹C once per distinct chosen alpha for its targets. A fold thus costs n_te·p·(p + t) multiply-adds
 * for its moments, A·(p³/3 + p²·n_te) for the solves and A·n_te·p·t for the scores; nothing is O(n_tr).
 * Where G' + αI is not numerically positive definite (rank-deficient G, alpha below the rounding), the solves for
 * that set fall back to G's eigendecomposition with negative eigenvalues taken as 0.
 *
 * <p>Memory beyond the inputs, b = 4 (f32) or 8 (f64): b·(n·p (Xg) + p·t (P, overwritten by the coefficients) + 2·p²
 * (S, T) + (A + 1)·n_te·p (the M_α, X_te)) + 8·(3·p² + 3·n_te·p) (G' and two solves in flight) plus target blocks
 * of b·max(n, 2·n_te + p) bytes per target, sized to {@link RidgeCV#BLOCK_BYTES}.
 */
final class PrimalRidgeCV {
    private final DenseLinAlg la;
    private final Tensor x, y;
    private final RidgeOptions opt;
    private final DType dt;
    private final int n, p, t, tb;
    private final Consumer<String> log;
    private final Tensor xg;           // (n,p) X − 1mᵀ
    private final double[] xMean;      // m (p), the shift of xg
    private final double[] yMean;      // m_y (t), the shift of Yg
    private final double[] xgSum;      // column sums of xg (p)
    private final double[] ygSum;      // column sums of Yg as rounded to dt (t)
    private final Tensor s;            // S = XgᵀXg (p,p)
    private final Tensor moments;      // P = XgᵀYg (p,t); the refit overwrites it with the coefficients

    /** Shifts X, forms S and P (target block by block). targetBlock > 0 forces the block size. */
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
        long perColumn = (long) dt.bytes * Math.max(n, 2L * maxTest + p);
        tb = targetBlock > 0 ? Math.min(targetBlock, t) : (int) Math.max(1, Math.min(t, RidgeCV.BLOCK_BYTES / perColumn));
        long t0 = System.nanoTime();
        boolean centre = opt.intercept();
        xMean = centre ? mean(Kernels.columnSums(x), n) : null;
        xg = Kernels.centredRows(x, null, 0, p, xMean, null, dt);
        xgSum = Kernels.columnSums(xg);
        s = Tensor.allocateHeap(dt, p, p);
        la.matmul(true, false, xg, xg, s);
        yMean = centre ? mean(Kernels.columnSums(y), n) : null;
        ygSum = new double[t];
        moments = Tensor.allocateHeap(dt, p, t);
        for (int c0 = 0; c0 < t; c0 += tb) {
            int c1 = Math.min(t, c0 + tb), w = c1 - c0;
            Tensor yg = Kernels.centredRows(y, null, c0, c1, yMean, null, dt);
            double[] sum = Kernels.columnSums(yg);
            System.arraycopy(sum, 0, ygSum, c0, w);
            la.gemm(true, false, p, w, n, 1, xg, 0, p, yg, 0, w, 0, moments, c0, t);
        }
        log.accept(String.format(Locale.ROOT, "moments over all %d rows: XᵀX (%d×%d) and XᵀY (%d×%d) in %.1f s",
                n, p, p, p, t, (System.nanoTime() - t0) / 1e9));
    }

    /** Adds each alpha's held-out R² of every fold into score[alpha][target] (the caller averages). */
    void crossValidate(int[] fold, int k, double[] alphas, double[][] score) {
        for (int f = 0; f < k; f++) {
            long t0 = System.nanoTime();
            int[] train = Folds.rows(fold, f, false), test = Folds.rows(fold, f, true);
            int nTr = train.length;
            Tensor xgTe = Kernels.centredRows(x, test, 0, p, xMean, null, dt);
            Tensor held = Tensor.allocateHeap(dt, p, p);
            la.matmul(true, false, xgTe, xgTe, held);
            double[] teSum = Kernels.columnSums(xgTe), delta = new double[p];
            if (opt.intercept()) for (int j = 0; j < p; j++) delta[j] = (xgSum[j] - teSum[j]) / nTr;
            double[][] stats = RidgeSolve.columnStats(x, train, opt.intercept(), opt.standardize());
            double[] g = scaledGram(nTr, held, delta, stats[1]);
            Tensor xsTe = Kernels.centredRows(x, test, 0, p, stats[0], stats[1], DType.F64);
            Tensor[] ops = solveRows(la, g, xsTe, alphas, dt);
            long t1 = System.nanoTime();
            log.accept(String.format(Locale.ROOT, "fold %d/%d: %d train / %d test rows, primal Gram %d×%d and held-out operators for %d alphas in %.1f s",
                    f + 1, k, nTr, test.length, p, p, alphas.length, (t1 - t0) / 1e9));
            for (int c0 = 0; c0 < t; c0 += tb) {
                scoreBlock(nTr, delta, stats[1], xgTe, ops, test, c0, Math.min(t, c0 + tb), alphas, score);
            }
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
    private void scoreBlock(int nTr, double[] delta, double[] scale, Tensor xgTe, Tensor[] ops, int[] test, int c0, int c1,
                            double[] alphas, double[][] score) {
        int w = c1 - c0, nTe = test.length;
        Tensor ygTe = Kernels.centredRows(y, test, c0, c1, yMean, null, dt);
        double[] teSum = Kernels.columnSums(ygTe);
        double[] eps = new double[w], sst = new double[w], teMean = new double[w];
        for (int j = 0; j < w; j++) {
            eps[j] = (ygSum[c0 + j] - teSum[j]) / nTr;
            teMean[j] = teSum[j] / nTe;
        }
        Tensor pred = Tensor.allocateHeap(dt, nTe, w);
        Kernels.addSquaredDifferences(ygTe, teMean, pred, sst); // pred is still zero: SST about the held-out mean
        Tensor c = Tensor.allocateHeap(dt, p, w);
        copyColumns(moments, c0, c);
        la.gemm(true, false, p, w, nTe, -1, xgTe, 0, p, ygTe, 0, w, 1, c, 0, w); // P − P_te
        correctMoments(c, nTr, delta, scale, eps);
        double[] sse = new double[w];
        for (int a = 0; a < alphas.length; a++) {
            la.matmul(false, false, ops[a], c, pred);
            Arrays.fill(sse, 0);
            // held-out targets about the training mean: Yg_te − ε
            Kernels.addSquaredDifferences(ygTe, opt.intercept() ? eps : null, pred, sse);
            for (int j = 0; j < w; j++) score[a][c0 + j] += RidgeScores.r2(sse[j], sst[j]);
        }
    }

    /**
     * Coefficients (p,t) and intercept (t) refitted on all samples, alpha per target: for each distinct alpha, one
     * Cholesky solve (G + αI)W = D⁻¹C for its targets (as rows: their columns of D⁻¹C, at most tb at a time; the
     * solves run side by side), written over P. Also returns x_mean and x_scale.
     */
    Tensor[] refit(double[] chosen) {
        long t0 = System.nanoTime();
        int[] all = new int[n];
        Arrays.setAll(all, i -> i);
        double[][] stats = RidgeSolve.columnStats(x, all, opt.intercept(), opt.standardize());
        double[] scale = stats[1], delta = new double[p], eps = new double[t];
        if (opt.intercept()) for (int j = 0; j < p; j++) delta[j] = xgSum[j] / n;
        if (opt.intercept()) for (int j = 0; j < t; j++) eps[j] = ygSum[j] / n;
        double[] g = scaledGram(n, null, delta, scale);
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
            Tensor rhs = correctedColumns(part, delta, scale, eps);
            double[] ga = g.clone();
            double alpha = partAlpha.get(k);
            for (int i = 0; i < p; i++) ga[i * p + i] += alpha;
            Tensor w = la.choleskySolve(Tensor.of(ga, p, p), rhs) ? rhs
                    : eigenSolveRows(la, g, correctedColumns(part, delta, scale, eps), new double[]{alpha}, DType.F64)[0];
            writeColumns(part, CpuDenseLinAlg.doubles(w));
        });
        Tensor intercept = Tensor.allocateHeap(dt, t);
        if (opt.intercept()) for (int j = 0; j < t; j++) intercept.setDouble(j, yMean[j] + eps[j]);
        log.accept(String.format(Locale.ROOT, "refit on all %d rows (primal, Cholesky per distinct alpha: %d) in %.1f s",
                n, distinct.length, (System.nanoTime() - t0) / 1e9));
        return new Tensor[]{moments, intercept, Tensor.of(stats[0], p).to(dt), Tensor.of(scale, p).to(dt)};
    }

    /** Rows r = columns part[r] of D⁻¹C over all samples, C = P − n·δεᵀ: (part.length, p) in f64. */
    private Tensor correctedColumns(int[] part, double[] delta, double[] scale, double[] eps) {
        int m = part.length;
        double[] rhs = new double[m * p];
        float[] pf = moments.heapFloats();
        double[] pd = pf == null ? CpuDenseLinAlg.doubles(moments) : null;
        for (int r = 0; r < m; r++) {
            int j = part[r];
            for (int i = 0; i < p; i++) {
                double v = pf != null ? pf[i * t + j] : pd[i * t + j];
                rhs[r * p + i] = (v - n * delta[i] * eps[j]) / scale[i];
            }
        }
        return Tensor.of(rhs, m, p);
    }

    /** Writes the rows of w (part.length, p) as the columns part[r] of P (now the coefficients). */
    private void writeColumns(int[] part, double[] w) {
        float[] pf = moments.heapFloats();
        double[] pd = pf == null ? CpuDenseLinAlg.doubles(moments) : null;
        for (int r = 0; r < part.length; r++) {
            int j = part[r];
            for (int i = 0; i < p; i++) {
                if (pf != null) pf[i * t + j] = (float) w[r * p + i];
                else pd[i * t + j] = w[r * p + i];
            }
        }
    }

    /**
     * D⁻¹(S − T − nTrain·δδᵀ)D⁻¹ in f64 (p·p, symmetrised): the Gram matrix of a training set of nTrain rows about
     * its mean, scaled; held (T) null = no held-out rows, δ all zero without centring, D = diag(scale).
     */
    private double[] scaledGram(int nTrain, Tensor held, double[] delta, double[] scale) {
        double[] g = new double[p * p];
        Parallel.forRange(p, 8, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                for (int j = 0; j <= i; j++) {
                    double v = 0.5 * (gram(held, i, j, nTrain, delta) + gram(held, j, i, nTrain, delta)) / (scale[i] * scale[j]);
                    g[i * p + j] = v;
                    g[j * p + i] = v;
                }
            }
        });
        return g;
    }

    private double gram(Tensor held, int i, int j, int nTrain, double[] delta) {
        long o = (long) i * p + j;
        double v = s.getDouble(o) - nTrain * delta[i] * delta[j];
        return held == null ? v : v - held.getDouble(o);
    }

    /** In place, c (p,w) = P − P_te becomes D⁻¹C = D⁻¹(c − nTrain·δεᵀ) (no shift without centring). */
    private void correctMoments(Tensor c, int nTrain, double[] delta, double[] scale, double[] eps) {
        int w = c.dimInt(1);
        float[] cf = c.heapFloats();
        double[] cd = cf == null ? CpuDenseLinAlg.doubles(c) : null;
        boolean centre = opt.intercept();
        Parallel.forRange(p, 16, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                double nd = centre ? nTrain * delta[i] : 0, inv = 1 / scale[i];
                int o = i * w;
                for (int j = 0; j < w; j++) {
                    double v = ((cf != null ? cf[o + j] : cd[o + j]) - nd * eps[j]) * inv;
                    if (cf != null) cf[o + j] = (float) v;
                    else cd[o + j] = v;
                }
            }
        });
    }

    /** out (p, w) = columns [c0, c0+w) of m (p, t). */
    private void copyColumns(Tensor m, int c0, Tensor out) {
        int w = out.dimInt(1);
        long e = dt.bytes;
        for (int i = 0; i < p; i++) {
            MemorySegment.copy(m.segment(), ((long) i * t + c0) * e, out.segment(), (long) i * w * e, w * e);
        }
    }

    private static double[] mean(double[] sum, int count) {
        double[] m = new double[sum.length];
        for (int j = 0; j < m.length; j++) m[j] = sum[j] / count;
        return m;
    }
}
