package brain2img.ridge;

import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import brain2img.util.Parallel;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * {@link RidgeCV}'s cross-validation and refit when every training set is solved in the primal form (one
 * eigendecomposition of a p×p Gram matrix each), with the moments shared between the folds and the refit
 * instead of recomputed from every training set.
 *
 * <p>X and Y are shifted once by their means over all samples (m, m_y; zero without intercept): Xg = X − 1mᵀ (n,p),
 * Yg = Y − 1m_yᵀ. Over all samples S = XgᵀXg (p,p) and P = XgᵀYg (p,t); over a fold's held-out rows
 * T = Xg_teᵀXg_te and P_te = Xg_teᵀYg_te. The training rows' moments about their own means are then exactly
 * <pre>
 *   G = S − T − n_tr·δδᵀ,   C = P − P_te − n_tr·δεᵀ,
 * </pre>
 * δ, ε the training means of Xg, Yg (p and t). With D = diag(scale) (standardisation) and D⁻¹GD⁻¹ = EᵀΛE (rows of
 * E the eigenvectors): Q = E·D⁻¹C (p,t); held-out predictions are Z·diag(1/(λ+α))·Q with Z = X_te,s·Eᵀ (X_te,s
 * the held-out rows centred and scaled by the training statistics); the refit's coefficients are
 * Eᵀ·diag(1/(λ+α_j))·Q on all samples. So a fold costs n_te·p·(p + t) multiply-adds for its moments and p²·t for Q,
 * where forming them from its training rows would cost n_tr·p·(p + t) and, through the basis XEᵀ, n_tr·p·(p + t) more.
 *
 * <p>Memory beyond the inputs, b = 4 (f32) or 8 (f64): b·(n·p (Xg) + p·t (P, overwritten by the coefficients)
 * + 3·p² (S, T, the Gram/eigenvectors) + 2·n_te·p + n_te·p (Z)) plus target blocks of b·max(n, 2·n_te + 2p) bytes per
 * target, sized to {@link RidgeCV#BLOCK_BYTES}.
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
        long perColumn = (long) dt.bytes * Math.max(n, 2L * maxTest + 2L * p);
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
        for (int a = 0; a < alphas.length; a++) {
            double[] ga = g.clone();
            for (int i = 0; i < p; i++) ga[i * p + i] += alphas[a];
            Tensor x = Tensor.of(b.toDoubleArray(), m, p); // rows b_i → (G + αI)⁻¹b_i, the rows of B(G + αI)⁻¹ as G is symmetric
            if (!la.choleskySolve(Tensor.of(ga, p, p), x)) return eigenSolveRows(la, g, b, alphas, dt);
            out[a] = dt == DType.F64 ? x : x.to(dt);
        }
        return out;
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
     * solve (G + αI)W = D⁻¹C for its targets (by rows: the targets' columns of D⁻¹C transposed, in blocks of at most
     * tb), written over P. Also returns x_mean and x_scale.
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
        float[] pf = moments.heapFloats();
        double[] pd = pf == null ? CpuDenseLinAlg.doubles(moments) : null;
        for (double alpha : distinct) {
            int[] cols = java.util.stream.IntStream.range(0, t).filter(j -> chosen[j] == alpha).toArray();
            for (int r0 = 0; r0 < cols.length; r0 += tb) {
                int[] part = Arrays.copyOfRange(cols, r0, Math.min(cols.length, r0 + tb));
                int m = part.length;
                double[] rhs = new double[m * p]; // row r: column part[r] of D⁻¹C, C = P − n·δεᵀ
                Parallel.forRange(m, 16, (q0, q1) -> {
                    for (int r = q0; r < q1; r++) {
                        int j = part[r];
                        for (int i = 0; i < p; i++) {
                            double v = pf != null ? pf[i * t + j] : pd[i * t + j];
                            rhs[r * p + i] = (v - n * delta[i] * eps[j]) / scale[i];
                        }
                    }
                });
                double[] w = CpuDenseLinAlg.doubles(solveRows(la, g, Tensor.of(rhs, m, p), new double[]{alpha}, DType.F64)[0]);
                Parallel.forRange(m, 16, (q0, q1) -> {
                    for (int r = q0; r < q1; r++) {
                        int j = part[r];
                        for (int i = 0; i < p; i++) {
                            if (pf != null) pf[i * t + j] = (float) w[r * p + i];
                            else pd[i * t + j] = w[r * p + i];
                        }
                    }
                });
            }
        }
        Tensor intercept = Tensor.allocateHeap(dt, t);
        if (opt.intercept()) for (int j = 0; j < t; j++) intercept.setDouble(j, yMean[j] + eps[j]);
        log.accept(String.format(Locale.ROOT, "refit on all %d rows (primal, Cholesky per distinct alpha: %d) in %.1f s",
                n, distinct.length, (System.nanoTime() - t0) / 1e9));
        return new Tensor[]{moments, intercept, Tensor.of(stats[0], p).to(dt), Tensor.of(scale, p).to(dt)};
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
