package brain2img.ridge;

import brain2img.backend.Backend;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import brain2img.util.Parallel;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Multi-target ridge regression with the alpha chosen by K-fold cross-validation, per target or shared.
 *
 * <p>Semantics (see the README's ridge section): folds as {@code numpy.array_split} of the samples or of
 * the groups in order of first appearance; per fold, X and Y centred by the training means (X optionally
 * scaled by the training std, ddof 0); score = R² on the held-out fold with SST around the held-out mean,
 * averaged over folds; best mean score wins, ties to the larger alpha; final refit on all samples.
 *
 * <p>Work: when every training set has at least p rows (or the solver is forced PRIMAL), {@link PrimalRidgeCV}:
 * moments shared between folds, one Cholesky solve per fold and alpha, one per distinct chosen alpha in the refit.
 * Otherwise one symmetric eigendecomposition per fold plus one for the refit ({@link RidgeSolve}); targets are
 * processed in blocks of tb columns, alphas one at a time inside a block. Peak memory of that path beyond the
 * inputs and the (p,t) result, in bytes with b = 4 (f32) or 8 (f64):
 * b·(2·n·p + 2·r² + nTr·r + 2·nTe·r) + 16·r² (the f64 matrix and eigenvector work) + b·tb·(nTr + r + 2·nTe + p) +
 * 8·A·t (scores), where r = min(p, nTr) for AUTO; tb is sized so the per-block term stays under
 * {@link #BLOCK_BYTES}.
 */
public final class RidgeCV {
    /** Budget for the per-target-block buffers (Y blocks, Q, predictions, coefficient block). */
    static final long BLOCK_BYTES = 256L << 20;

    private RidgeCV() {}

    public static RidgeModel fit(Backend be, Tensor x, Tensor y, RidgeOptions opt, Consumer<String> progress) {
        return fit(DenseLinAlg.forBackend(be), x, y, opt, progress, 0);
    }

    /** As {@link #fit(Backend, Tensor, Tensor, RidgeOptions, Consumer)}; targetBlock > 0 forces the block size. */
    static RidgeModel fit(DenseLinAlg la, Tensor x, Tensor y, RidgeOptions opt, Consumer<String> progress, int targetBlock) {
        Consumer<String> log = progress != null ? progress : s -> {};
        validate(x, y);
        int n = x.dimInt(0), p = x.dimInt(1), t = y.dimInt(1);
        DType dt = opt.f64() ? DType.F64 : DType.F32;
        double[] alphas = opt.alphas();
        int na = alphas.length, k = opt.folds();
        int[] fold = Folds.assign(n, k, opt.groups());
        double[][] score = new double[na][t];
        boolean allPrimal = true;
        int maxTest = 0;
        for (int f = 0; f < k; f++) {
            int nTe = Folds.rows(fold, f, true).length;
            maxTest = Math.max(maxTest, nTe);
            allPrimal &= !useKernel(opt.solver(), p, n - nTe);
        }
        if (allPrimal) { // then the refit on all n ≥ n_train rows is primal too
            PrimalRidgeCV primal = new PrimalRidgeCV(la, x, y, opt, dt, maxTest, targetBlock, log);
            primal.crossValidate(fold, k, alphas, score);
            for (double[] row : score) for (int j = 0; j < t; j++) row[j] /= k;
            double[] chosen = choose(alphas, score, opt.perTarget());
            Tensor[] fit = primal.refit(chosen);
            return new RidgeModel(fit[0], fit[1], Tensor.of(chosen.clone(), t), scoreTensor(score), fit[2], fit[3],
                    metadata(opt, la, n, p, t, solverName(false), solverName(false)));
        }
        String cvSolvers = null;
        for (int f = 0; f < k; f++) {
            long t0 = System.nanoTime();
            int[] train = Folds.rows(fold, f, false), test = Folds.rows(fold, f, true);
            boolean kernel = useKernel(opt.solver(), p, train.length);
            cvSolvers = cvSolvers == null || cvSolvers.equals(solverName(kernel)) ? solverName(kernel) : "mixed";
            RidgeSolve s = RidgeSolve.prepare(la, x, train, opt, dt, kernel);
            Tensor z = s.project(x, test);
            long t1 = System.nanoTime();
            log.accept(String.format(Locale.ROOT, "fold %d/%d: %d train / %d test rows, %s eigendecomposition %d×%d in %.1f s",
                    f + 1, k, train.length, test.length, solverName(kernel), s.r, s.r, (t1 - t0) / 1e9));
            scoreFold(la, s, z, y, train, test, alphas, opt.intercept(), blockSize(targetBlock, t, dt, s, test.length), score);
            log.accept(String.format(Locale.ROOT, "fold %d/%d: scored %d alphas × %d targets in %.1f s",
                    f + 1, k, na, t, (System.nanoTime() - t1) / 1e9));
        }
        for (double[] row : score) for (int j = 0; j < t; j++) row[j] /= k;
        double[] chosen = choose(alphas, score, opt.perTarget());

        long t0 = System.nanoTime();
        int[] all = new int[n];
        Arrays.setAll(all, i -> i);
        boolean kernel = useKernel(opt.solver(), p, n);
        RidgeSolve s = RidgeSolve.prepare(la, x, all, opt, dt, kernel);
        Tensor coef = Tensor.allocateHeap(dt, p, t);
        Tensor intercept = Tensor.allocateHeap(dt, t);
        refit(s, y, chosen, opt.intercept(), blockSize(targetBlock, t, dt, s, 0), coef, intercept);
        log.accept(String.format(Locale.ROOT, "refit on all %d rows (%s) in %.1f s", n, solverName(kernel), (System.nanoTime() - t0) / 1e9));

        Map<String, String> meta = metadata(opt, la, n, p, t, cvSolvers, solverName(kernel));
        Tensor mean = Tensor.of(s.mean.clone(), p).to(dt), scale = Tensor.of(s.scale.clone(), p).to(dt);
        return new RidgeModel(coef, intercept, Tensor.of(chosen.clone(), t), scoreTensor(score), mean, scale, meta);
    }

    /** The mean CV scores as the model's f64 (alphas, targets) tensor. */
    private static Tensor scoreTensor(double[][] score) {
        int na = score.length, t = score[0].length;
        Tensor cv = Tensor.allocateHeap(DType.F64, na, t);
        for (int a = 0; a < na; a++) for (int j = 0; j < t; j++) cv.setDouble((long) a * t + j, score[a][j]);
        return cv;
    }

    /** Final coefficients (p,t) and intercept (t) on all samples, target block by block, alpha per target. */
    static void refit(RidgeSolve s, Tensor y, double[] chosen, boolean intercept, int tb, Tensor coef, Tensor icpt) {
        int t = y.dimInt(1), p = s.p;
        DType dt = s.dtype;
        int[] all = new int[y.dimInt(0)];
        Arrays.setAll(all, i -> i);
        for (int c0 = 0; c0 < t; c0 += tb) {
            int c1 = Math.min(t, c0 + tb), w = c1 - c0;
            Tensor yb = gather(y, all, c0, c1, dt);
            double[] ym = intercept ? columnMeans(yb) : null;
            Tensor q = s.targetsInBasis(yb, ym);
            Kernels.shrink(q, s.lambda, chosen, c0); // Q' = D_α Q with each column's own alpha
            Tensor wb = s.coefficients(q);
            long rowBytes = (long) w * dt.bytes;
            for (int i = 0; i < p; i++) {
                MemorySegment.copy(wb.segment(), i * rowBytes, coef.segment(), ((long) i * t + c0) * dt.bytes, rowBytes);
            }
            if (ym != null) for (int j = c0; j < c1; j++) icpt.setDouble(j, ym[j - c0]);
        }
    }

    /** The options and what computed them, as saved in the model file. */
    static Map<String, String> metadata(RidgeOptions opt, DenseLinAlg la, int n, int p, int t,
                                                String cvSolvers, String refitSolver) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", RidgeModel.FORMAT);
        meta.put("alphas", joined(opt.alphas()));
        meta.put("folds", Integer.toString(opt.folds()));
        meta.put("groups", opt.groups() == null ? "none" : Long.toString(Arrays.stream(opt.groups()).distinct().count()));
        meta.put("alpha_mode", opt.perTarget() ? "per-target" : "shared");
        meta.put("standardize", Boolean.toString(opt.standardize()));
        meta.put("intercept", Boolean.toString(opt.intercept()));
        meta.put("dtype", opt.f64() ? "f64" : "f32");
        meta.put("solver", opt.solver().name().toLowerCase(Locale.ROOT));
        meta.put("solver_cv", cvSolvers);
        meta.put("solver_refit", refitSolver);
        meta.put("linalg", la.describe());
        meta.put("n_samples", Integer.toString(n));
        meta.put("n_features", Integer.toString(p));
        meta.put("n_targets", Integer.toString(t));
        return meta;
    }

    /** Adds each alpha's held-out R² (per target) of this fold into score[alpha][target]. */
    static void scoreFold(DenseLinAlg la, RidgeSolve s, Tensor z, Tensor y, int[] train, int[] test,
                                  double[] alphas, boolean intercept, int tb, double[][] score) {
        int t = y.dimInt(1), nTe = test.length, r = s.r;
        DType dt = s.dtype;
        Tensor zd = Tensor.allocateHeap(dt, nTe, r);
        for (int c0 = 0; c0 < t; c0 += tb) {
            int c1 = Math.min(t, c0 + tb), w = c1 - c0;
            Tensor ytr = gather(y, train, c0, c1, dt);
            double[] ym = intercept ? columnMeans(ytr) : null;
            Tensor q = s.targetsInBasis(ytr, ym);
            Tensor yte = gather(y, test, c0, c1, dt);
            double[] teMean = columnMeans(yte), sst = new double[w];
            for (int i = 0; i < nTe; i++) for (int j = 0; j < w; j++) {
                double d = yte.getDouble((long) i * w + j) - teMean[j];
                sst[j] += d * d;
            }
            if (ym != null) { // held-out targets relative to the training mean, so predictions need no intercept
                for (int i = 0; i < nTe; i++) for (int j = 0; j < w; j++) {
                    long o = (long) i * w + j;
                    yte.setDouble(o, yte.getDouble(o) - ym[j]);
                }
            }
            Tensor pred = Tensor.allocateHeap(dt, nTe, w);
            double[] sse = new double[w];
            for (int a = 0; a < alphas.length; a++) {
                double[] dinv = new double[r];
                for (int i = 0; i < r; i++) dinv[i] = 1 / (s.lambda[i] + alphas[a]);
                Kernels.scaleColumns(z, dinv, zd);
                la.matmul(false, false, zd, q, pred);
                Arrays.fill(sse, 0);
                Kernels.addSquaredDifferences(yte, null, pred, sse);
                for (int j = 0; j < w; j++) score[a][c0 + j] += RidgeScores.r2(sse[j], sst[j]);
            }
        }
    }

    /** Chosen alpha per target: best mean score, ties to the larger alpha; shared = best mean over targets. */
    static double[] choose(double[] alphas, double[][] score, boolean perTarget) {
        int t = score[0].length;
        Integer[] order = new Integer[alphas.length]; // larger alphas first, so strict '>' keeps them on ties
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Double.compare(alphas[b], alphas[a]));
        double[] chosen = new double[t];
        if (perTarget) {
            for (int j = 0; j < t; j++) {
                int best = order[0];
                for (int a : order) if (score[a][j] > score[best][j]) best = a;
                chosen[j] = alphas[best];
            }
        } else {
            double[] mean = new double[alphas.length];
            for (int a = 0; a < alphas.length; a++) mean[a] = Arrays.stream(score[a]).sum() / t;
            int best = order[0];
            for (int a : order) if (mean[a] > mean[best]) best = a;
            Arrays.fill(chosen, alphas[best]);
        }
        return chosen;
    }

    static boolean useKernel(RidgeOptions.Solver solver, int p, int nTrain) {
        return switch (solver) {
            case PRIMAL -> false;
            case KERNEL -> true;
            case AUTO -> p > nTrain;
        };
    }

    static String solverName(boolean kernel) {
        return kernel ? "kernel" : "primal";
    }

    static int blockSize(int forced, int t, DType dt, RidgeSolve s, int nTest) {
        if (forced > 0) return Math.min(forced, t);
        long perColumn = (long) dt.bytes * (s.nTrain + s.r + 2L * nTest + s.p);
        return (int) Math.max(1, Math.min(t, BLOCK_BYTES / perColumn));
    }

    /** y[rows, c0:c1] as a new (rows, c1-c0) tensor of dtype dt. */
    static Tensor gather(Tensor y, int[] rows, int c0, int c1, DType dt) {
        int t = y.dimInt(1), w = c1 - c0;
        Tensor out = Tensor.allocateHeap(dt, rows.length, w);
        boolean same = y.dtype() == dt;
        for (int r = 0; r < rows.length; r++) {
            long src = (long) rows[r] * t + c0, dst = (long) r * w;
            if (same) MemorySegment.copy(y.segment(), src * dt.bytes, out.segment(), dst * dt.bytes, (long) w * dt.bytes);
            else for (int j = 0; j < w; j++) out.setDouble(dst + j, y.getDouble(src + j));
        }
        return out;
    }

    static double[] columnMeans(Tensor m) {
        int rows = m.dimInt(0), cols = m.dimInt(1);
        double[] mean = new double[cols];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) mean[j] += m.getDouble((long) i * cols + j);
        for (int j = 0; j < cols; j++) mean[j] /= rows;
        return mean;
    }

    private static void validate(Tensor x, Tensor y) {
        if (x.rank() != 2) throw new IllegalArgumentException("x must be 2-D (samples, features), got " + x.shapeString());
        if (y.rank() != 2) throw new IllegalArgumentException("y must be 2-D (samples, targets), got " + y.shapeString());
        if (x.dim(0) != y.dim(0)) {
            throw new IllegalArgumentException("x has " + x.dim(0) + " rows (samples) but y has " + y.dim(0));
        }
        if (x.dim(1) == 0 || y.dim(1) == 0) throw new IllegalArgumentException("x and y need at least one column, got "
                + x.shapeString() + " and " + y.shapeString());
        requireFinite(x, "x");
        requireFinite(y, "y");
    }

    /** Throws naming {@code what}, the row and the column of the first NaN or infinity in a 2-D float tensor. */
    public static void requireFinite(Tensor m, String what) {
        if (!m.dtype().isFloating()) throw new IllegalArgumentException(what + ": expected floating-point values, got " + m.shapeString());
        long cols = m.rank() == 2 ? m.dim(1) : 1, n = m.numel();
        if (allFinite(m)) return; // the common case, checked on the heap array; the scan below finds the place
        for (long i = 0; i < n; i++) {
            double v = m.getDouble(i);
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException(what + ": " + v + " at row " + i / cols + ", column " + i % cols
                        + " (NaN and infinity are not allowed)");
            }
        }
    }

    /** True when m is a heap f32 or f64 tensor without NaN or infinity (false also when it is neither). */
    private static boolean allFinite(Tensor m) {
        float[] f = m.heapFloats();
        double[] d = m.heapDoubles();
        if (f == null && d == null) return false;
        boolean[] bad = new boolean[1];
        Parallel.forRange(f != null ? f.length : d.length, 1 << 16, (i0, i1) -> {
            double acc = 0; // 0·v is NaN exactly when v is NaN or ±∞
            if (f != null) for (int i = i0; i < i1; i++) acc += f[i] * 0f;
            else for (int i = i0; i < i1; i++) acc += d[i] * 0;
            if (acc != 0) bad[0] = true;
        });
        return !bad[0];
    }

    private static String joined(double[] v) {
        StringBuilder sb = new StringBuilder();
        for (double d : v) sb.append(sb.isEmpty() ? "" : ",").append(d);
        return sb.toString();
    }
}
