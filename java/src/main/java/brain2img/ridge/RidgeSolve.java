package brain2img.ridge;

import brain2img.tensor.DType;
import brain2img.tensor.Tensor;

/**
 * One training set's ridge decomposition, shared by every alpha and every target.
 *
 * <p>With Xc the training rows centred/scaled (nTr, p) and r the basis size:
 * <ul>
 *   <li>primal (r = p): Xcᵀ Xc = Eᵀ Λ E, basis L = Xc Eᵀ (nTr, r), so W_α = Eᵀ D_α Lᵀ Yc;</li>
 *   <li>kernel (r = nTr): Xc Xcᵀ = Eᵀ Λ E, basis L = Eᵀ (nTr, r), so W_α = Xcᵀ Eᵀ D_α E Yc,</li>
 * </ul>
 * with D_α = diag(1/(λ+α)) and E holding the eigenvectors as rows. In both forms Q = Lᵀ Yc (r, t) and held-out
 * predictions are Z D_α Q with Z = Xte_c Eᵀ (primal) or Xte_c Xcᵀ Eᵀ (kernel): one eigendecomposition serves
 * the whole alpha grid. Yc = Y − 1ȳᵀ is never formed: Lᵀ Yc = Lᵀ Y − (Lᵀ1) ȳᵀ.
 */
final class RidgeSolve {
    final boolean kernel;
    final int p, nTrain, r;
    final DType dtype;
    final double[] mean, scale; // per column of X; mean 0 without intercept, scale 1 without standardisation
    final double[] lambda;      // eigenvalues ascending, clamped at 0 (r)
    private final DenseLinAlg la;
    private final Tensor xc;    // (nTr, p)
    private final Tensor e;     // (r, r) eigenvectors as rows
    private final Tensor basis; // primal: L = Xc Eᵀ (nTr, r); kernel: null (L = Eᵀ)
    private final double[] basisSums; // Lᵀ1 (r)

    private RidgeSolve(DenseLinAlg la, boolean kernel, DType dtype, double[] mean, double[] scale, Tensor xc,
                       double[] lambda, Tensor e, Tensor basis, double[] basisSums) {
        this.la = la;
        this.kernel = kernel;
        this.dtype = dtype;
        this.mean = mean;
        this.scale = scale;
        this.xc = xc;
        this.p = xc.dimInt(1);
        this.nTrain = xc.dimInt(0);
        this.lambda = lambda;
        this.e = e;
        this.r = e.dimInt(0);
        this.basis = basis;
        this.basisSums = basisSums;
    }

    /** Decomposes the training rows {@code rows} of x (n, p). */
    static RidgeSolve prepare(DenseLinAlg la, Tensor x, int[] rows, RidgeOptions opt, DType dt, boolean kernel) {
        int p = x.dimInt(1);
        double[][] stats = columnStats(x, rows, opt.intercept(), opt.standardize());
        Tensor xc = standardizedRows(x, rows, stats[0], stats[1], dt);
        int nTr = rows.length;
        int r = kernel ? nTr : p;
        Tensor g = Tensor.allocateHeap(dt, r, r);
        if (kernel) la.matmul(false, true, xc, xc, g);
        else la.matmul(true, false, xc, xc, g);
        Eigen eig = Eigen.of(la, Kernels.symmetricF64(g), dt);
        double[] lambda = eig.lambda();
        Tensor e = eig.e();
        Tensor basis = null;
        double[] sums = new double[r];
        if (kernel) {
            for (int i = 0; i < r; i++) {
                double s = 0;
                for (int j = 0; j < r; j++) s += e.getDouble((long) i * r + j);
                sums[i] = s;
            }
        } else {
            basis = Tensor.allocateHeap(dt, nTr, r);
            la.matmul(false, true, xc, e, basis);
            for (int i = 0; i < nTr; i++) for (int j = 0; j < r; j++) sums[j] += basis.getDouble((long) i * r + j);
        }
        return new RidgeSolve(la, kernel, dt, stats[0], stats[1], xc, lambda, e, basis, sums);
    }

    /** Eigenvalues ascending, clamped at 0, and the eigenvectors as rows (r, r) in the fit's dtype. */
    record Eigen(double[] lambda, Tensor e) {
        /** Decomposes the symmetric f64 matrix m (overwritten; returned as e when dt is f64). */
        static Eigen of(DenseLinAlg la, Tensor m, DType dt) {
            double[] lambda = la.eigh(m);
            for (int i = 0; i < lambda.length; i++) lambda[i] = Math.max(0, lambda[i]);
            return new Eigen(lambda, dt == DType.F64 ? m : m.to(dt));
        }
    }

    /** {mean, scale} over the given rows; mean 0 without intercept, scale 1 without standardisation. */
    static double[][] columnStats(Tensor x, int[] rows, boolean center, boolean standardize) {
        int p = x.dimInt(1);
        double[] mean = new double[p], scale = new double[p];
        java.util.Arrays.fill(scale, 1);
        if (!center && !standardize) return new double[][]{mean, scale};
        double[] mu = Kernels.columnSums(x, rows, null);
        for (int j = 0; j < p; j++) mu[j] /= rows.length;
        if (standardize) {
            double[] ss = Kernels.columnSums(x, rows, mu);
            for (int j = 0; j < p; j++) {
                double sd = Math.sqrt(ss[j] / rows.length);
                scale[j] = sd == 0 ? 1 : sd;
            }
        }
        if (center) mean = mu;
        return new double[][]{mean, scale};
    }

    /** (x[rows] − mean) / scale as a new (rows, p) tensor of dtype dt. */
    static Tensor standardizedRows(Tensor x, int[] rows, double[] mean, double[] scale, DType dt) {
        int p = x.dimInt(1);
        Tensor out = Tensor.allocateHeap(dt, rows.length, p);
        for (int r = 0; r < rows.length; r++) {
            long src = (long) rows[r] * p, dst = (long) r * p;
            for (int j = 0; j < p; j++) out.setDouble(dst + j, (x.getDouble(src + j) - mean[j]) / scale[j]);
        }
        return out;
    }

    /** Z (rows, r): the held-out rows of x in the eigenbasis, so that predictions are Z D_α Q. */
    Tensor project(Tensor x, int[] rows) {
        Tensor xt = standardizedRows(x, rows, mean, scale, dtype);
        Tensor z = Tensor.allocateHeap(dtype, rows.length, r);
        if (kernel) {
            Tensor k = Tensor.allocateHeap(dtype, rows.length, nTrain);
            la.matmul(false, true, xt, xc, k);
            la.matmul(false, true, k, e, z);
        } else {
            la.matmul(false, true, xt, e, z);
        }
        return z;
    }

    /** Q = Lᵀ (Y − 1ȳᵀ) (r, tb) for a block yTrain (nTr, tb) of training targets; yMean null = no centring. */
    Tensor targetsInBasis(Tensor yTrain, double[] yMean) {
        int tb = yTrain.dimInt(1);
        Tensor q = Tensor.allocateHeap(dtype, r, tb);
        if (kernel) la.matmul(false, false, e, yTrain, q);
        else la.matmul(true, false, basis, yTrain, q);
        if (yMean != null) {
            for (int i = 0; i < r; i++) {
                long o = (long) i * tb;
                for (int j = 0; j < tb; j++) q.setDouble(o + j, q.getDouble(o + j) - basisSums[i] * yMean[j]);
            }
        }
        return q;
    }

    /** Coefficients W (p, tb) = Eᵀ Q' (primal) or Xcᵀ Eᵀ Q' (kernel) from Q' = D_α Q already scaled per target. */
    Tensor coefficients(Tensor qScaled) {
        int tb = qScaled.dimInt(1);
        Tensor w = Tensor.allocateHeap(dtype, p, tb);
        if (kernel) {
            Tensor t = Tensor.allocateHeap(dtype, nTrain, tb);
            la.matmul(true, false, e, qScaled, t);
            la.matmul(true, false, xc, t, w);
        } else {
            la.matmul(true, false, e, qScaled, w);
        }
        return w;
    }

    // ---------------------------------------------------------------- files (RidgeBlocks: factorise once, share through files)

    /** This decomposition as a safetensors file (Xc, E, the primal basis; mean, scale, λ, Lᵀ1 in f64). */
    void save(java.nio.file.Path file) throws java.io.IOException {
        java.util.Map<String, Tensor> m = new java.util.LinkedHashMap<>();
        m.put("xc", xc);
        m.put("e", e);
        if (basis != null) m.put("basis", basis);
        m.put("mean", Tensor.of(mean.clone(), p));
        m.put("scale", Tensor.of(scale.clone(), p));
        m.put("lambda", Tensor.of(lambda.clone(), r));
        m.put("basis_sums", Tensor.of(basisSums.clone(), r));
        brain2img.io.SafeTensors.write(file, m, java.util.Map.of("kernel", Boolean.toString(kernel)));
    }

    /** A decomposition written by {@link #save}, copied to the heap. */
    static RidgeSolve load(DenseLinAlg la, java.nio.file.Path file) {
        try (brain2img.io.SafeTensors st = brain2img.io.SafeTensors.open(file)) {
            boolean kernel = Boolean.parseBoolean(st.metadata().get("kernel"));
            Tensor xc = st.get("xc"), e = st.get("e");
            DType dt = xc.dtype();
            return new RidgeSolve(la, kernel, dt, st.get("mean").toDoubleArray(), st.get("scale").toDoubleArray(), xc.to(dt),
                    st.get("lambda").toDoubleArray(), e.to(dt), kernel ? null : st.get("basis").to(dt), st.get("basis_sums").toDoubleArray());
        }
    }
}
