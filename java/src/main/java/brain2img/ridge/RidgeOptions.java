package brain2img.ridge;

import java.util.Arrays;

/**
 * How {@link RidgeCV} fits.
 *
 * @param alphas      the regularisation grid (each finite and > 0)
 * @param folds       number K ≥ 2 of cross-validation folds (contiguous, as {@code numpy.array_split})
 * @param groups      one group id per sample (e.g. the image id), or null; folds are then cut over the
 *                    distinct groups in order of first appearance
 * @param perTarget   true: each target gets its own best alpha; false: one alpha shared by all targets
 * @param standardize scale X columns by their training standard deviation (ddof 0; zero counts as 1)
 * @param intercept   centre X and Y by their training means and fit an intercept
 * @param f64         compute in float64 instead of float32
 * @param solver      eigendecomposition of XᵀX (PRIMAL), of XXᵀ (KERNEL), or whichever is smaller (AUTO)
 */
public record RidgeOptions(double[] alphas, int folds, int[] groups, boolean perTarget, boolean standardize,
                           boolean intercept, boolean f64, Solver solver) implements java.io.Serializable {

    public enum Solver {
        /** PRIMAL when p ≤ training rows, else KERNEL. */
        AUTO,
        /** Eigendecomposition of XᵀX (p×p). */
        PRIMAL,
        /** Eigendecomposition of XXᵀ (n×n), the kernel form. */
        KERNEL
    }

    public RidgeOptions {
        if (alphas == null || alphas.length == 0) throw new IllegalArgumentException("alphas: the alpha grid is empty");
        for (double a : alphas) {
            if (!(a > 0) || Double.isInfinite(a)) {
                throw new IllegalArgumentException("alphas: every alpha must be finite and > 0, got " + a);
            }
        }
        if (folds < 2) throw new IllegalArgumentException("folds: need at least 2 folds, got " + folds);
        if (solver == null) throw new IllegalArgumentException("solver must not be null");
        alphas = alphas.clone();
        groups = groups == null ? null : groups.clone();
    }

    /** 5 folds, no groups, per-target alpha, intercept on, standardise off, f32, automatic solver. */
    public static RidgeOptions defaults(double... alphas) {
        return new RidgeOptions(alphas, 5, null, true, false, true, false, Solver.AUTO);
    }

    public RidgeOptions withFolds(int k) { return new RidgeOptions(alphas, k, groups, perTarget, standardize, intercept, f64, solver); }
    public RidgeOptions withGroups(int[] g) { return new RidgeOptions(alphas, folds, g, perTarget, standardize, intercept, f64, solver); }
    public RidgeOptions withPerTarget(boolean v) { return new RidgeOptions(alphas, folds, groups, v, standardize, intercept, f64, solver); }
    public RidgeOptions withStandardize(boolean v) { return new RidgeOptions(alphas, folds, groups, perTarget, v, intercept, f64, solver); }
    public RidgeOptions withIntercept(boolean v) { return new RidgeOptions(alphas, folds, groups, perTarget, standardize, v, f64, solver); }
    public RidgeOptions withF64(boolean v) { return new RidgeOptions(alphas, folds, groups, perTarget, standardize, intercept, v, solver); }
    public RidgeOptions withSolver(Solver s) { return new RidgeOptions(alphas, folds, groups, perTarget, standardize, intercept, f64, s); }

    @Override
    public double[] alphas() { return alphas.clone(); }

    @Override
    public int[] groups() { return groups == null ? null : groups.clone(); }

    @Override
    public boolean equals(Object o) {
        return o instanceof RidgeOptions r && Arrays.equals(alphas, r.alphas) && folds == r.folds
                && Arrays.equals(groups, r.groups) && perTarget == r.perTarget && standardize == r.standardize
                && intercept == r.intercept && f64 == r.f64 && solver == r.solver;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(alphas) * 31 + Arrays.hashCode(groups) * 17 + java.util.Objects.hash(folds, perTarget, standardize, intercept, f64, solver);
    }

    @Override
    public String toString() {
        return "RidgeOptions[alphas=" + Arrays.toString(alphas) + ", folds=" + folds
                + ", groups=" + (groups == null ? "none" : Arrays.stream(groups).distinct().count() + " distinct") + ", alphaMode=" + (perTarget ? "per-target" : "shared")
                + ", standardize=" + standardize + ", intercept=" + intercept + ", dtype=" + (f64 ? "f64" : "f32")
                + ", solver=" + solver + "]";
    }
}
