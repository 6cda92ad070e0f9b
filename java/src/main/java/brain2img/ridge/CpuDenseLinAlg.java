package brain2img.ridge;

import brain2img.backend.CpuBackend;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import brain2img.util.Parallel;

/**
 * Dense linear algebra in pure Java: f32 GEMM from the CPU backend, f64 GEMM from {@link DoubleGemm},
 * the eigensolver from {@link SymmetricEigen}. Correct everywhere; the reference the other paths are
 * tested against. {@link #best()} prefers {@link OpenBlasLinAlg} where a system OpenBLAS is installed.
 */
public class CpuDenseLinAlg implements DenseLinAlg {
    private final CpuBackend cpu = CpuBackend.pureJava();

    /** The fastest CPU implementation available on this machine: a system OpenBLAS/LAPACK when found, else pure Java. */
    public static DenseLinAlg best() {
        return Best.INSTANCE;
    }

    /** Lazily loaded (a holder class: OpenBlasLinAlg is a subclass, so it cannot be set up in our static init). */
    private static final class Best {
        static final DenseLinAlg INSTANCE = OpenBlasLinAlg.load().orElseGet(CpuDenseLinAlg::new);
    }

    @Override
    public String describe() {
        return "pure Java (" + Parallel.threads() + " threads, "
                + (DoubleGemm.VECTOR ? "Vector API " + DoubleGemm.SPECIES.vectorBitSize() + "-bit" : "scalar") + ")";
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
                     Tensor a, long aOff, int lda, Tensor b, long bOff, int ldb,
                     double beta, Tensor c, long cOff, int ldc) {
        DType dt = c.dtype();
        if (a.dtype() != dt || b.dtype() != dt) {
            throw new IllegalArgumentException("gemm: mixed dtypes " + a.shapeString() + ", " + b.shapeString() + ", " + c.shapeString());
        }
        if (dt == DType.F32) {
            cpu.gemm(transA, transB, m, n, k, (float) alpha, a, aOff, lda, 0, b, bOff, ldb, 0, (float) beta, c, cOff, ldc, 0, 1);
        } else if (dt == DType.F64) {
            DoubleGemm.gemm(transA, transB, m, n, k, alpha, doubles(a), Math.toIntExact(aOff), lda,
                    doubles(b), Math.toIntExact(bOff), ldb, beta, doubles(c), Math.toIntExact(cOff), ldc);
        } else {
            throw new IllegalArgumentException("gemm: unsupported dtype " + dt.lower());
        }
    }

    @Override
    public double[] eigh(Tensor a) {
        if (a.rank() != 2 || a.dim(0) != a.dim(1)) throw new IllegalArgumentException("eigh: not a square matrix: " + a.shapeString());
        return SymmetricEigen.decompose(doubles(a), a.dimInt(0));
    }

    @Override
    public boolean choleskySolve(Tensor a, Tensor b) {
        int n = a.dimInt(0), m = b.dimInt(0);
        if (a.rank() != 2 || a.dim(1) != n || b.rank() != 2 || b.dim(1) != n) {
            throw new IllegalArgumentException("choleskySolve: " + a.shapeString() + " and " + b.shapeString() + " do not fit");
        }
        double[] l = doubles(a), x = doubles(b);
        if (!cholesky(l, n)) return false;
        Parallel.forRange(m, 4, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int o = r * n;
                for (int i = 0; i < n; i++) { // L z = b
                    x[o + i] = (x[o + i] - DoubleGemm.dot(l, i * n, x, o, i)) / l[i * n + i];
                }
                for (int i = n - 1; i >= 0; i--) { // Lᵀ x = z, with column i of L read through the upper triangle
                    double v = x[o + i];
                    for (int q = i + 1; q < n; q++) v -= l[i * n + q] * x[o + q];
                    x[o + i] = v / l[i * n + i];
                }
            }
        });
        return true;
    }

    /**
     * In place: the lower triangle of a (n,n, row-major) becomes L with A = LLᵀ and the upper triangle Lᵀ (so the
     * back substitution reads rows). False when a pivot is not positive.
     */
    private static boolean cholesky(double[] a, int n) {
        for (int j = 0; j < n; j++) {
            double d = a[j * n + j] - DoubleGemm.dot(a, j * n, a, j * n, j);
            if (!(d > 0)) return false;
            double ljj = Math.sqrt(d);
            a[j * n + j] = ljj;
            final int jj = j;
            Parallel.forRange(n - j - 1, 64, (i0, i1) -> {
                for (int i = jj + 1 + i0; i < jj + 1 + i1; i++) {
                    a[i * n + jj] = (a[i * n + jj] - DoubleGemm.dot(a, i * n, a, jj * n, jj)) / ljj;
                }
            });
        }
        for (int i = 0; i < n; i++) for (int q = i + 1; q < n; q++) a[i * n + q] = a[q * n + i];
        return true;
    }

    static double[] doubles(Tensor t) {
        double[] d = t.heapDoubles();
        if (d == null) throw new IllegalArgumentException("expected a heap f64 tensor, got " + t.shapeString());
        return d;
    }
}
