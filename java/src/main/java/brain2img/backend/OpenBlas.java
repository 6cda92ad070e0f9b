package brain2img.backend;

import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import brain2img.util.Parallel;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Optional;

/**
 * A system OpenBLAS through the FFM API: the library, its {@code cblas_sgemm}/{@code cblas_dgemm} (row-major, called
 * as critical downcalls on Java heap arrays or mapped weights directly) and its thread count. Shared by
 * {@link CpuBackend} (large GEMMs and convolutions) and the ridge engine's linear algebra, which binds LAPACK from
 * {@link #lookup()}. {@code -Dbrain2img.blas=off} disables it everywhere (then the pure-Java GEMM, the reference,
 * does the work); {@code -Dbrain2img.blas=/path/libopenblas.so} picks a library. Absent libraries are no error.
 */
public final class OpenBlas {
    private static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
    private static final ValueLayout A = ValueLayout.ADDRESS;

    private final String library;
    private final SymbolLookup lookup;
    private final MethodHandle sgemm, dgemm, getThreads, setThreads;

    private OpenBlas(String library, SymbolLookup lookup, MethodHandle sgemm, MethodHandle dgemm,
                     MethodHandle getThreads, MethodHandle setThreads) {
        this.library = library;
        this.lookup = lookup;
        this.sgemm = sgemm;
        this.dgemm = dgemm;
        this.getThreads = getThreads;
        this.setThreads = setThreads;
    }

    private static final class Holder {
        static final Optional<OpenBlas> SYSTEM = load();
    }

    /** The system OpenBLAS, loaded once, or empty where none is usable or {@code brain2img.blas=off}. */
    public static Optional<OpenBlas> system() {
        return Holder.SYSTEM;
    }

    private static Optional<OpenBlas> load() {
        String prop = System.getProperty("brain2img.blas", "");
        if (prop.equals("off")) return Optional.empty();
        List<String> names = prop.isEmpty() ? List.of("libopenblas.so.0", "libopenblas.so") : List.of(prop);
        Linker linker = Linker.nativeLinker();
        for (String name : names) {
            try {
                SymbolLookup lib = SymbolLookup.libraryLookup(name, Arena.global());
                Optional<MemorySegment> sg = lib.find("cblas_sgemm"), dg = lib.find("cblas_dgemm"),
                        gt = lib.find("openblas_get_num_threads"), st = lib.find("openblas_set_num_threads");
                if (sg.isEmpty() || dg.isEmpty() || gt.isEmpty() || st.isEmpty()) continue;
                Linker.Option critical = Linker.Option.critical(true);
                FunctionDescriptor sgd = FunctionDescriptor.ofVoid(I, I, I, I, I, I, ValueLayout.JAVA_FLOAT, A, I, A, I,
                        ValueLayout.JAVA_FLOAT, A, I);
                FunctionDescriptor dgd = FunctionDescriptor.ofVoid(I, I, I, I, I, I, ValueLayout.JAVA_DOUBLE, A, I, A, I,
                        ValueLayout.JAVA_DOUBLE, A, I);
                OpenBlas blas = new OpenBlas(name, lib, linker.downcallHandle(sg.get(), sgd, critical),
                        linker.downcallHandle(dg.get(), dgd, critical),
                        linker.downcallHandle(gt.get(), FunctionDescriptor.of(I)),
                        linker.downcallHandle(st.get(), FunctionDescriptor.ofVoid(I)));
                // as many BLAS threads as the engine's own pool (-Dbrain2img.threads), not one per core of the host
                blas.setThreads(Parallel.threads());
                return Optional.of(blas);
            } catch (IllegalArgumentException | UnsatisfiedLinkError | IllegalCallerException e) {
                // not installed here, or native access not enabled: stay on pure Java
            }
        }
        return Optional.empty();
    }

    public String library() { return library; }

    /** The library's symbols, for bindings beyond the GEMMs (LAPACK). */
    public SymbolLookup lookup() { return lookup; }

    /** C = alpha·op(A)·op(B) + beta·C, row-major, on offsets in elements; A, B and C all f32 or all f64. */
    public void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
                     Tensor a, long aOff, int lda, Tensor b, long bOff, int ldb,
                     double beta, Tensor c, long cOff, int ldc) {
        DType dt = c.dtype();
        if ((dt != DType.F32 && dt != DType.F64) || a.dtype() != dt || b.dtype() != dt) {
            throw new IllegalArgumentException("BLAS gemm needs f32 or f64 operands of one dtype, got " + a + ", " + b + ", " + c);
        }
        MemorySegment as = a.segment().asSlice(aOff * dt.bytes), bs = b.segment().asSlice(bOff * dt.bytes),
                cs = c.segment().asSlice(cOff * dt.bytes);
        if (dt == DType.F32) {
            sgemm(transA, transB, m, n, k, (float) alpha, as, lda, bs, ldb, (float) beta, cs, ldc);
            return;
        }
        if (m == 0 || n == 0) return;
        try {
            // BLAS wants leading dimensions ≥ 1 even for empty operands
            dgemm.invokeExact(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, alpha,
                    as, Math.max(1, lda), bs, Math.max(1, ldb), beta, cs, Math.max(1, ldc));
        } catch (Throwable t) {
            throw new IllegalStateException("OpenBLAS dgemm failed: " + t, t);
        }
    }

    /** f32 arrays: C[cOff..] = alpha·op(A)·op(B) + beta·C, row-major. */
    void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
               float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        sgemm(transA, transB, m, n, k, alpha, MemorySegment.ofArray(a).asSlice(aOff * 4L), lda,
                MemorySegment.ofArray(b).asSlice(bOff * 4L), ldb, beta, MemorySegment.ofArray(c).asSlice(cOff * 4L), ldc);
    }

    private void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, MemorySegment a, int lda,
                       MemorySegment b, int ldb, float beta, MemorySegment c, int ldc) {
        if (m == 0 || n == 0) return;
        try {
            // BLAS wants leading dimensions ≥ 1 even for empty operands
            sgemm.invokeExact(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, alpha,
                    a, Math.max(1, lda), b, Math.max(1, ldb), beta, c, Math.max(1, ldc));
        } catch (Throwable t) {
            throw new IllegalStateException("OpenBLAS sgemm failed: " + t, t);
        }
    }

    public int threads() {
        try {
            return (int) getThreads.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("openblas_get_num_threads failed: " + t, t);
        }
    }

    /** OpenBLAS's thread count is global to the process. */
    public void setThreads(int n) {
        try {
            setThreads.invokeExact(n);
        } catch (Throwable t) {
            throw new IllegalStateException("openblas_set_num_threads failed: " + t, t);
        }
    }
}
