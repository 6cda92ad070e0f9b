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
    private final CpuBackend cpu = new CpuBackend();

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
        if (a.dtype() == DType.F64) return SymmetricEigen.decompose(doubles(a), a.dimInt(0));
        // f32: decomposed in f64 (our eigensolver has one precision) and the eigenvectors rounded back
        double[] wide = a.toDoubleArray();
        double[] lambda = SymmetricEigen.decompose(wide, a.dimInt(0));
        for (int i = 0; i < wide.length; i++) a.setDouble(i, wide[i]);
        return lambda;
    }

    static double[] doubles(Tensor t) {
        double[] d = t.heapDoubles();
        if (d == null) throw new IllegalArgumentException("expected a heap f64 tensor, got " + t.shapeString());
        return d;
    }
}
