package brain2img.ridge;

import brain2img.backend.Backend;
import brain2img.tensor.Tensor;

/**
 * The dense linear algebra the ridge engine spends its time in: GEMM in f32/f64 and a symmetric
 * eigensolver. A backend that can do these faster (a GPU, a system BLAS/LAPACK) provides its own
 * implementation by implementing {@link Provider}; everything else gets the pure-Java one.
 *
 * <p>All matrices are row-major heap tensors; offsets and leading dimensions are in elements.
 */
public interface DenseLinAlg {

    /** One line: what computes (e.g. "pure Java, 2 threads, Vector API 512-bit"), recorded in model metadata. */
    String describe();

    /**
     * C = alpha·op(A)·op(B) + beta·C with op(A) m×k and op(B) k×n; A, B, C all f32 or all f64.
     * When beta is 0, C is not read.
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
              Tensor a, long aOff, int lda, Tensor b, long bOff, int ldb,
              double beta, Tensor c, long cOff, int ldc);

    /**
     * Eigendecomposition of the symmetric f64 matrix a (n,n) (both triangles filled). Returns the n
     * eigenvalues in ascending order and overwrites a so that row j holds the unit eigenvector of
     * eigenvalue j (this is LAPACK's column-major output seen row-major).
     */
    double[] eigh(Tensor a);

    /**
     * Solves A·xᵢ = bᵢ for the symmetric positive definite f64 matrix a (n,n) (both triangles filled) and each
     * row bᵢ of the f64 matrix b (m,n), in place: b's rows become the solutions, a its Cholesky factor (contents
     * unspecified). Returns false, with a and b unspecified, when a is not numerically positive definite.
     */
    boolean choleskySolve(Tensor a, Tensor b);

    /**
     * Runs task(0..count−1), independent of each other, possibly concurrently. An implementation with a threaded
     * BLAS runs them one per core with single-threaded kernels inside: on a machine shared with other jobs,
     * independent factorizations keep the cores busy where a threaded one waits at every step for a descheduled
     * thread. The default runs them in order.
     */
    default void forEachIndependent(int count, java.util.function.IntConsumer task) {
        for (int i = 0; i < count; i++) task.accept(i);
    }

    /** Implemented by backends that bring their own dense linear algebra. */
    interface Provider {
        DenseLinAlg denseLinAlg();
    }

    /** The backend's own implementation where it has one, else the best CPU implementation found here. */
    static DenseLinAlg forBackend(Backend be) {
        if (be instanceof Provider p) return p.denseLinAlg();
        return CpuDenseLinAlg.best();
    }

    /** C = op(A)·op(B) for whole matrices a (rows,cols) etc.; a convenience over {@link #gemm}. */
    default void matmul(boolean transA, boolean transB, Tensor a, Tensor b, Tensor c) {
        int m = c.dimInt(0), n = c.dimInt(1);
        int k = transA ? a.dimInt(0) : a.dimInt(1);
        int kb = transB ? b.dimInt(1) : b.dimInt(0);
        int ma = transA ? a.dimInt(1) : a.dimInt(0);
        int nb = transB ? b.dimInt(0) : b.dimInt(1);
        if (k != kb || ma != m || nb != n) {
            throw new IllegalArgumentException("matmul: " + (transA ? "ᵀ" : "") + a.shapeString() + " · "
                    + (transB ? "ᵀ" : "") + b.shapeString() + " → " + c.shapeString() + " do not fit");
        }
        gemm(transA, transB, m, n, k, 1, a, 0, a.dimInt(1), b, 0, b.dimInt(1), 0, c, 0, n);
    }
}
