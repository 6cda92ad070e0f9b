package brain2img.cuda;

import brain2img.ridge.DenseLinAlg;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;

/**
 * The ridge engine's dense linear algebra on the GPU: f32 GEMM by cuBLAS with fp32 compute (whatever the backend's
 * precision mode: ridge's eigenbasis products need it) and the symmetric eigendecomposition by cuSOLVER's dsyevd in
 * f64. f64 GEMM, the Cholesky solve and problems too small to repay the copies run on the CPU implementation.
 *
 * <p>{@link DenseLinAlg} works on host heap tensors, so each call copies the spans of its operands to the device
 * and its result back: for the ridge engine's products (a 7,000² eigenbasis times a block of thousands of voxels)
 * the copies are a small part of the work.
 */
final class CudaDenseLinAlg implements DenseLinAlg {
    /** Below this many multiply-adds (128³) a GEMM stays on the CPU. */
    static final long MIN_GEMM_WORK = 1L << 21;
    /** Below this order an eigendecomposition stays on the CPU. */
    static final int MIN_EIGH = 64;

    private final CudaBackend be;
    private final DenseLinAlg cpu;
    private final boolean solver;

    CudaDenseLinAlg(CudaBackend be, DenseLinAlg cpu) {
        this.be = be;
        this.cpu = cpu;
        this.solver = CuSolver.loadError() == null;
    }

    @Override
    public String describe() {
        return be.describe() + ": cuBLAS f32 GEMM (fp32 compute)" + (solver ? ", cuSOLVER dsyevd" : " (no cuSOLVER: " + CuSolver.loadError() + ")")
                + "; f64 GEMM, Cholesky" + (solver ? "" : ", eigendecomposition") + " and small problems on " + cpu.describe();
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
                     Tensor a, long aOff, int lda, Tensor b, long bOff, int ldb,
                     double beta, Tensor c, long cOff, int ldc) {
        if (c.dtype() != DType.F32 || (long) m * n * k < MIN_GEMM_WORK) {
            cpu.gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return;
        }
        long cSpan = span(m, n, ldc);
        try (Tensor da = be.toDevice(slice(a, aOff, span(transA ? k : m, transA ? m : k, lda)));
             Tensor db = be.toDevice(slice(b, bOff, span(transB ? n : k, transB ? k : n, ldb)));
             // C is read when beta ≠ 0, and copied back whole: with ldc > n its gaps must come back unchanged
             Tensor dc = beta != 0 || ldc != n ? be.toDevice(slice(c, cOff, cSpan)) : be.empty(DType.F32, cSpan)) {
            be.sgemm(transA, transB, m, n, k, (float) alpha, da, lda, db, ldb, (float) beta, dc, ldc);
            be.toHost(dc, slice(c, cOff, cSpan));
        }
    }

    @Override
    public double[] eigh(Tensor a) {
        int n = a.dimInt(0);
        if (!solver || n < MIN_EIGH) return cpu.eigh(a);
        try (Tensor da = be.toDevice(a); Tensor w = be.empty(DType.F64, n)) {
            be.syevd(da, w, n);
            be.toHost(da, a); // the eigenvectors as rows, as the contract says
            Tensor lambda = Tensor.allocateHeap(DType.F64, n);
            be.toHost(w, lambda);
            return lambda.toDoubleArray();
        }
    }

    @Override
    public boolean choleskySolve(Tensor a, Tensor b) {
        return cpu.choleskySolve(a, b);
    }

    /** Elements a row-major operand of {@code rows} rows of {@code cols} used columns at leading dimension ld covers. */
    private static long span(int rows, int cols, int ld) {
        return rows == 0 ? 0 : (long) (rows - 1) * ld + cols;
    }

    /** Elements [off, off + n) of t as a 1-D tensor viewing the same memory. */
    private static Tensor slice(Tensor t, long off, long n) {
        long bytes = t.dtype().bytes;
        return Tensor.wrap(t.segment().asSlice(off * bytes, n * bytes), t.dtype(), n);
    }
}
