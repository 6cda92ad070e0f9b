package brain2img.ridge;

import brain2img.backend.OpenBlas;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * Dense linear algebra from a system OpenBLAS (and its LAPACK) through the FFM API: the GEMMs of
 * {@link OpenBlas} (row-major, on the Java heap arrays directly), {@code dsyevd_} (divide and conquer, on a native
 * copy) and {@code dpotrf_}/{@code dpotrs_} (Cholesky solves, on the heap arrays), bound from the same library.
 * Found by {@link #load()}; absent libraries leave the pure-Java implementation in charge ({@code -Dbrain2img.blas}
 * as {@link OpenBlas} reads it).
 */
final class OpenBlasLinAlg extends CpuDenseLinAlg {
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
    private static final ValueLayout A = ValueLayout.ADDRESS;

    private final OpenBlas blas;
    private final MethodHandle dsyevd, dpotrf, dpotrs;

    private OpenBlasLinAlg(OpenBlas blas, MethodHandle dsyevd, MethodHandle dpotrf, MethodHandle dpotrs) {
        this.blas = blas;
        this.dsyevd = dsyevd;
        this.dpotrf = dpotrf;
        this.dpotrs = dpotrs;
    }

    /** The OpenBLAS binding, or empty (with no error) where no usable library (with LAPACK) is installed. */
    static Optional<DenseLinAlg> load() {
        Optional<OpenBlas> found = OpenBlas.system();
        if (found.isEmpty()) return Optional.empty();
        SymbolLookup lib = found.get().lookup();
        Optional<MemorySegment> ev = lib.find("dsyevd_"), pf = lib.find("dpotrf_"), ps = lib.find("dpotrs_");
        if (ev.isEmpty() || pf.isEmpty() || ps.isEmpty()) return Optional.empty();
        Linker linker = Linker.nativeLinker();
        Linker.Option critical = Linker.Option.critical(true);
        // dsyevd_(jobz, uplo, n, a, lda, w, work, lwork, iwork, liwork, info, len(jobz), len(uplo))
        FunctionDescriptor evd = FunctionDescriptor.ofVoid(A, A, A, A, A, A, A, A, A, A, A,
                ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
        return Optional.of(new OpenBlasLinAlg(found.get(), linker.downcallHandle(ev.get(), evd),
                // dpotrf_(uplo, n, a, lda, info, len(uplo)); dpotrs_(uplo, n, nrhs, a, lda, b, ldb, info, len(uplo))
                linker.downcallHandle(pf.get(), FunctionDescriptor.ofVoid(A, A, A, A, A, ValueLayout.JAVA_LONG), critical),
                linker.downcallHandle(ps.get(), FunctionDescriptor.ofVoid(A, A, A, A, A, A, A, A, ValueLayout.JAVA_LONG), critical)));
    }

    @Override
    public String describe() {
        return "OpenBLAS (" + blas.library() + ": cblas_sgemm/cblas_dgemm, LAPACK dsyevd/dpotrf/dpotrs)";
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
                     Tensor a, long aOff, int lda, Tensor b, long bOff, int ldb,
                     double beta, Tensor c, long cOff, int ldc) {
        DType dt = c.dtype();
        if (a.dtype() != dt || b.dtype() != dt || (dt != DType.F32 && dt != DType.F64)) {
            super.gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return;
        }
        blas.gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    @Override
    public double[] eigh(Tensor a) {
        if (a.rank() != 2 || a.dim(0) != a.dim(1) || a.dtype() != DType.F64) {
            throw new IllegalArgumentException("eigh: expected a square f64 matrix, got " + a.shapeString());
        }
        int n = a.dimInt(0);
        if (n == 0) return new double[0];
        try (Arena arena = Arena.ofConfined()) {
            // column-major LAPACK sees our row-major symmetric matrix unchanged; its eigenvector columns are our rows
            MemorySegment m = arena.allocate((long) n * n * 8, 64);
            MemorySegment.copy(a.segment(), 0, m, 0, (long) n * n * 8);
            MemorySegment jobz = arena.allocateFrom(ValueLayout.JAVA_BYTE, (byte) 'V');
            MemorySegment uplo = arena.allocateFrom(ValueLayout.JAVA_BYTE, (byte) 'U');
            MemorySegment nn = arena.allocateFrom(I, n), w = arena.allocate((long) n * 8, 64), info = arena.allocate(I);
            MemorySegment workQ = arena.allocate(8), iworkQ = arena.allocate(I), minus1 = arena.allocateFrom(I, -1);
            dsyevd.invokeExact(jobz, uplo, nn, m, nn, w, workQ, minus1, iworkQ, minus1, info, 1L, 1L);
            check(info, "workspace query");
            int lwork = (int) Math.ceil(workQ.get(ValueLayout.JAVA_DOUBLE, 0)), liwork = iworkQ.get(I, 0);
            MemorySegment work = arena.allocate((long) lwork * 8, 64), iwork = arena.allocate((long) liwork * 4, 64);
            dsyevd.invokeExact(jobz, uplo, nn, m, nn, w, work, arena.allocateFrom(I, lwork), iwork,
                    arena.allocateFrom(I, liwork), info, 1L, 1L);
            check(info, "n=" + n);
            MemorySegment.copy(m, 0, a.segment(), 0, (long) n * n * 8);
            return w.toArray(ValueLayout.JAVA_DOUBLE);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("OpenBLAS dsyevd failed: " + t, t);
        }
    }

    @Override
    public boolean choleskySolve(Tensor a, Tensor b) {
        int n = a.dimInt(0), m = b.dimInt(0);
        if (a.rank() != 2 || a.dim(1) != n || b.rank() != 2 || b.dim(1) != n || a.dtype() != DType.F64 || b.dtype() != DType.F64) {
            throw new IllegalArgumentException("choleskySolve: " + a.shapeString() + " and " + b.shapeString() + " do not fit");
        }
        if (n == 0 || m == 0) return true;
        // column-major LAPACK sees the symmetric a unchanged and b (m,n) row-major as n×m: one right-hand side per column
        MemorySegment uplo = MemorySegment.ofArray(new byte[]{'L'}), nn = MemorySegment.ofArray(new int[]{n});
        MemorySegment nrhs = MemorySegment.ofArray(new int[]{m});
        int[] info = new int[1];
        MemorySegment is = MemorySegment.ofArray(info);
        try {
            dpotrf.invokeExact(uplo, nn, a.segment(), nn, is, 1L);
            if (info[0] > 0) return false;
            if (info[0] == 0) dpotrs.invokeExact(uplo, nn, nrhs, a.segment(), nn, b.segment(), nn, is, 1L);
        } catch (Throwable t) {
            throw new IllegalStateException("OpenBLAS dpotrf/dpotrs failed: " + t, t);
        }
        if (info[0] != 0) throw new ArithmeticException("LAPACK dpotrf/dpotrs returned info=" + info[0]);
        return true;
    }

    /** One task per Java worker thread with OpenBLAS single-threaded meanwhile (the thread count is global). */
    @Override
    public void forEachIndependent(int count, java.util.function.IntConsumer task) {
        if (count <= 1) { // nothing to run side by side: keep OpenBLAS's threads for the one task
            if (count == 1) task.accept(0);
            return;
        }
        int threads = blas.threads();
        blas.setThreads(1);
        try {
            brain2img.util.Parallel.forRange(count, 1, (i0, i1) -> {
                for (int i = i0; i < i1; i++) task.accept(i);
            });
        } finally {
            blas.setThreads(threads);
        }
    }

    private static void check(MemorySegment info, String what) {
        int v = info.get(I, 0);
        if (v != 0) throw new ArithmeticException("LAPACK dsyevd (" + what + ") returned info=" + v);
    }
}
