package brain2img.ridge;

import brain2img.tensor.DType;
import brain2img.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * {@link RidgeCV}'s fit (same folds, scores, alpha choice and refit) returning the predictions for a held-out
 * set instead of the coefficients: what voxel-wise encoding models need, where the (p, t) coefficient matrix of
 * 80k features × 16k voxels would not fit in memory. The held-out rows are projected into the refit's eigenbasis
 * once, and each block of targets is predicted as Z_te · D_α · Q with its own alpha per target, so targets stream
 * in blocks and nothing of size p × t is ever formed.
 */
public final class RidgeCVPredict {
    private RidgeCVPredict() {}

    /**
     * @param predictions (nTest, t) in the fit's dtype: held-out predictions with each target's chosen alpha
     * @param alpha       chosen alpha per target
     * @param cvScore     (alphas, t): mean cross-validated R² per alpha and target (as {@link RidgeModel#cvScore()})
     */
    public record Result(Tensor predictions, double[] alpha, double[][] cvScore) {
        /** The cross-validated R² of each target at its chosen alpha. */
        public double[] bestScore(double[] alphas) {
            double[] best = new double[alpha.length];
            for (int j = 0; j < alpha.length; j++) {
                for (int a = 0; a < alphas.length; a++) if (alphas[a] == alpha[j]) best[j] = cvScore[a][j];
            }
            return best;
        }
    }

    /** Fits on (x, y) with K-fold CV as {@link RidgeCV#fit} and predicts xTest (nTest, p). */
    public static Result fit(DenseLinAlg la, Tensor x, Tensor y, Tensor xTest, RidgeOptions opt, Consumer<String> progress) {
        Consumer<String> log = progress != null ? progress : s -> {};
        if (xTest.rank() != 2 || xTest.dim(1) != x.dim(1)) {
            throw new IllegalArgumentException("test features " + xTest.shapeString() + " must have the training features' " + x.dim(1) + " columns");
        }
        int n = x.dimInt(0), p = x.dimInt(1), t = y.dimInt(1);
        DType dt = opt.f64() ? DType.F64 : DType.F32;
        double[] alphas = opt.alphas();
        int k = opt.folds();
        int[] fold = Folds.assign(n, k, opt.groups());
        double[][] score = new double[alphas.length][t];
        for (int f = 0; f < k; f++) {
            long t0 = System.nanoTime();
            int[] train = Folds.rows(fold, f, false), test = Folds.rows(fold, f, true);
            boolean kernel = RidgeCV.useKernel(opt.solver(), p, train.length);
            RidgeSolve s = RidgeSolve.prepare(la, x, train, opt, dt, kernel);
            Tensor z = s.project(x, test);
            RidgeCV.scoreFold(la, s, z, y, train, test, alphas, opt.intercept(), RidgeCV.blockSize(0, t, dt, s, test.length), score);
            log.accept(String.format(Locale.ROOT, "fold %d/%d: %d train / %d test rows, %s, %d alphas × %d targets in %.1f s",
                    f + 1, k, train.length, test.length, RidgeCV.solverName(kernel), alphas.length, t, (System.nanoTime() - t0) / 1e9));
        }
        for (double[] row : score) for (int j = 0; j < t; j++) row[j] /= k;
        double[] chosen = RidgeCV.choose(alphas, score, opt.perTarget());

        long t0 = System.nanoTime();
        int[] all = new int[n];
        Arrays.setAll(all, i -> i);
        int nTe = xTest.dimInt(0);
        int[] testRows = new int[nTe];
        Arrays.setAll(testRows, i -> i);
        boolean kernel = RidgeCV.useKernel(opt.solver(), p, n);
        RidgeSolve s = RidgeSolve.prepare(la, x, all, opt, dt, kernel);
        Tensor z = s.project(xTest, testRows); // (nTe, r)
        Tensor pred = Tensor.allocateHeap(dt, nTe, t);
        int tb = RidgeCV.blockSize(0, t, dt, s, nTe);
        for (int c0 = 0; c0 < t; c0 += tb) {
            int c1 = Math.min(t, c0 + tb), w = c1 - c0;
            Tensor yb = RidgeCV.gather(y, all, c0, c1, dt);
            double[] ym = opt.intercept() ? RidgeCV.columnMeans(yb) : null;
            Tensor q = s.targetsInBasis(yb, ym);
            Kernels.shrink(q, s.lambda, chosen, c0); // Q' = D_α Q with each column's own alpha
            Tensor pb = Tensor.allocateHeap(dt, nTe, w);
            la.matmul(false, false, z, q, pb);
            for (int i = 0; i < nTe; i++) {
                long o = (long) i * w;
                if (ym != null) for (int j = 0; j < w; j++) pb.setDouble(o + j, pb.getDouble(o + j) + ym[j]);
                MemorySegment.copy(pb.segment(), o * dt.bytes, pred.segment(), ((long) i * t + c0) * dt.bytes, (long) w * dt.bytes);
            }
        }
        log.accept(String.format(Locale.ROOT, "refit on all %d rows (%s), predicted %d held-out rows in %.1f s",
                n, RidgeCV.solverName(kernel), nTe, (System.nanoTime() - t0) / 1e9));
        return new Result(pred, chosen, score);
    }
}
