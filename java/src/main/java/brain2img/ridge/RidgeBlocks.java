package brain2img.ridge;

import brain2img.io.Npy;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;

import java.io.IOException;
import java.io.Serializable;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@link RidgeCV} split for many machines: the per-fold eigendecompositions (and the refit's) are computed once
 * and written to files; then any process scores a block of target columns over every fold and alpha
 * ({@link #scores}), the chosen alphas are picked from all blocks' scores ({@link #choose}), any process refits
 * a block's coefficients ({@link #refit}), and {@link #assemble} writes the same model file as {@code ridge fit}
 * (same tensors, same metadata). In the kernel form (p ≥ n) the arithmetic is RidgeCV's own, block by block,
 * so a fit split into blocks of w columns equals {@code RidgeCV} run with target blocks of w columns bit for bit;
 * in the primal form RidgeCV solves by Cholesky per alpha while the blocks reuse one eigendecomposition per fold,
 * so the two agree in the chosen alphas and in the coefficients to rounding.
 *
 * <p>Files in the work folder: {@code fold-<f>.safetensors} (the fold's decomposition) and {@code fold-<f>.z.npy}
 * (its held-out rows in the eigenbasis), {@code refit.safetensors}; blocks write {@code coef-<c0>-<c1>.npy}
 * (p, w) and {@code intercept-<c0>-<c1>.npy} (w).
 */
public final class RidgeBlocks {
    private RidgeBlocks() {}

    /** What the block tasks need to know about a prepared fit (no arrays beyond the fold assignment). */
    public record Prepared(String folder, RidgeOptions options, int n, int p, int t, int[] fold, String cvSolvers, String refitSolver)
            implements Serializable {
        /** The work folder (a shared file system path: tasks on other machines read it). */
        public Path dir() { return Path.of(folder); }
        Path foldFile(int f) { return dir().resolve("fold-" + f + ".safetensors"); }
        Path projectedFile(int f) { return dir().resolve("fold-" + f + ".z.npy"); }
        Path refitFile() { return dir().resolve("refit.safetensors"); }
        public Path coefFile(int c0, int c1) { return dir().resolve(String.format(Locale.ROOT, "coef-%d-%d.npy", c0, c1)); }
        public Path interceptFile(int c0, int c1) { return dir().resolve(String.format(Locale.ROOT, "intercept-%d-%d.npy", c0, c1)); }
    }

    /** Factorises every fold and the refit of x (n, p) for a fit of {@code targets} targets; files into dir. */
    public static Prepared prepare(DenseLinAlg la, Tensor x, int targets, RidgeOptions opt, Path dir, Consumer<String> log) throws IOException {
        Consumer<String> out = log != null ? log : s -> {};
        Files.createDirectories(dir);
        int n = x.dimInt(0), p = x.dimInt(1), k = opt.folds();
        DType dt = opt.f64() ? DType.F64 : DType.F32;
        int[] fold = Folds.assign(n, k, opt.groups());
        String cvSolvers = null;
        Prepared pr = null;
        for (int f = 0; f < k; f++) {
            long t0 = System.nanoTime();
            int[] train = Folds.rows(fold, f, false), test = Folds.rows(fold, f, true);
            boolean kernel = RidgeCV.useKernel(opt.solver(), p, train.length);
            String name = RidgeCV.solverName(kernel);
            cvSolvers = cvSolvers == null || cvSolvers.equals(name) ? name : "mixed";
            RidgeSolve s = RidgeSolve.prepare(la, x, train, opt, dt, kernel);
            pr = new Prepared(dir.toString(), opt, n, p, targets, fold, cvSolvers, null);
            s.save(pr.foldFile(f));
            Npy.write(pr.projectedFile(f), s.project(x, test));
            out.accept(String.format(Locale.ROOT, "fold %d/%d: %s eigendecomposition %d×%d in %.1f s, written to %s", f + 1, k, name, s.r, s.r,
                    (System.nanoTime() - t0) / 1e9, pr.foldFile(f).getFileName()));
        }
        int[] all = new int[n];
        Arrays.setAll(all, i -> i);
        boolean kernel = RidgeCV.useKernel(opt.solver(), p, n);
        pr = new Prepared(dir.toString(), opt, n, p, targets, fold, cvSolvers, RidgeCV.solverName(kernel));
        RidgeSolve.prepare(la, x, all, opt, dt, kernel).save(pr.refitFile());
        return pr;
    }

    /** Target blocks [c0, c1) of at most {@code width} columns covering all t targets. */
    public static List<int[]> blocks(int t, int width) {
        if (width < 1) throw new IllegalArgumentException("block width must be ≥ 1, got " + width);
        List<int[]> b = new java.util.ArrayList<>();
        for (int c0 = 0; c0 < t; c0 += width) b.add(new int[]{c0, Math.min(t, c0 + width)});
        return b;
    }

    /** Mean held-out R² over the folds (A, c1−c0) of targets [c0, c1) of y (n, t) for every alpha. */
    public static double[][] scores(Prepared pr, DenseLinAlg la, Tensor y, int c0, int c1) {
        RidgeOptions opt = pr.options();
        int w = c1 - c0, k = opt.folds();
        Tensor yb = block(y, pr, c0, c1);
        double[][] score = new double[opt.alphas().length][w];
        for (int f = 0; f < k; f++) {
            RidgeSolve s = RidgeSolve.load(la, pr.foldFile(f));
            Tensor z = Npy.read(pr.projectedFile(f));
            RidgeCV.scoreFold(la, s, z, yb, Folds.rows(pr.fold(), f, false), Folds.rows(pr.fold(), f, true), opt.alphas(), opt.intercept(), w, score);
        }
        for (double[] row : score) for (int j = 0; j < w; j++) row[j] /= k;
        return score;
    }

    /** The chosen alpha per target from every block's scores, placed side by side (A, t): RidgeCV's rule. */
    public static double[] choose(RidgeOptions opt, double[][] score) {
        return RidgeCV.choose(opt.alphas(), score, opt.perTarget());
    }

    /** Coefficients and intercepts of targets [c0, c1) refitted on all samples with their chosen alphas; files in the work folder. */
    public static void refit(Prepared pr, DenseLinAlg la, Tensor y, int c0, int c1, double[] chosen) throws IOException {
        RidgeSolve s = RidgeSolve.load(la, pr.refitFile());
        int w = c1 - c0;
        Tensor coef = Tensor.allocateHeap(s.dtype, pr.p(), w), icpt = Tensor.allocateHeap(s.dtype, w);
        RidgeCV.refit(s, block(y, pr, c0, c1), Arrays.copyOfRange(chosen, c0, c1), pr.options().intercept(), w, coef, icpt);
        Npy.write(pr.coefFile(c0, c1), coef);
        Npy.write(pr.interceptFile(c0, c1), icpt);
    }

    /** The model from the refitted blocks: the same tensors and metadata as {@link RidgeCV#fit}. */
    public static RidgeModel assemble(Prepared pr, DenseLinAlg la, List<int[]> blocks, double[] chosen, double[][] score) {
        RidgeSolve s = RidgeSolve.load(la, pr.refitFile());
        int p = pr.p(), t = pr.t();
        DType dt = s.dtype;
        Tensor coef = Tensor.allocateHeap(dt, p, t), intercept = Tensor.allocateHeap(dt, t);
        for (int[] b : blocks) {
            int c0 = b[0], c1 = b[1], w = c1 - c0;
            Tensor cb = Npy.map(pr.coefFile(c0, c1)), ib = Npy.map(pr.interceptFile(c0, c1));
            if (cb.dtype() != dt || cb.dim(0) != p || cb.dim(1) != w) {
                throw new IllegalStateException(pr.coefFile(c0, c1) + ": expected " + dt.lower() + " (" + p + ", " + w + "), got " + cb.shapeString());
            }
            long rowBytes = (long) w * dt.bytes;
            for (int i = 0; i < p; i++) MemorySegment.copy(cb.segment(), i * rowBytes, coef.segment(), ((long) i * t + c0) * dt.bytes, rowBytes);
            MemorySegment.copy(ib.segment(), 0, intercept.segment(), (long) c0 * dt.bytes, rowBytes);
        }
        int na = score.length;
        Tensor cv = Tensor.allocateHeap(DType.F64, na, t);
        for (int a = 0; a < na; a++) for (int j = 0; j < t; j++) cv.setDouble((long) a * t + j, score[a][j]);
        Map<String, String> meta = RidgeCV.metadata(pr.options(), la, pr.n(), p, t, pr.cvSolvers(), pr.refitSolver());
        return new RidgeModel(coef, intercept, Tensor.of(chosen.clone(), t), cv, Tensor.of(s.mean.clone(), p).to(dt), Tensor.of(s.scale.clone(), p).to(dt), meta);
    }

    /** y[:, c0:c1] in the fit's dtype, checked against the prepared fit. */
    private static Tensor block(Tensor y, Prepared pr, int c0, int c1) {
        if (y.rank() != 2 || y.dim(0) != pr.n() || y.dim(1) != pr.t()) {
            throw new IllegalArgumentException("y " + y.shapeString() + " is not the (" + pr.n() + ", " + pr.t() + ") the fit was prepared for");
        }
        if (c0 < 0 || c1 > pr.t() || c0 >= c1) throw new IllegalArgumentException("target block [" + c0 + ", " + c1 + ") outside 0.." + pr.t());
        int[] all = new int[pr.n()];
        Arrays.setAll(all, i -> i);
        return RidgeCV.gather(y, all, c0, c1, pr.options().f64() ? DType.F64 : DType.F32);
    }
}
