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
 *
 * <p>Kernel choice: a DYNAMIC_ARCH OpenBLAS picks its kernels by CPU model, and releases older than the CPU (Debian
 * 12's 0.3.21 on AMD Zen 4/5) fall back to the AVX2 "Haswell" kernels on CPUs that have AVX-512, at about half
 * the GEMM speed. Where the CPU reports the AVX-512 subsets OpenBLAS's "SkylakeX" kernels use (F, CD, BW, DQ, VL)
 * and the user has not exported {@code OPENBLAS_CORETYPE}, it is set to SkylakeX in this process before the library
 * is loaded ({@code -Dbrain2img.blas.coretype=auto}, the default). {@code -Dbrain2img.blas.coretype=NAME} makes it
 * NAME even over an exported value; {@code =library} leaves the library's own choice. {@link #core()} reports what
 * the library runs.
 */
public final class OpenBlas {
    private static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
    private static final ValueLayout A = ValueLayout.ADDRESS;

    private final String library;
    private final SymbolLookup lookup;
    private final MethodHandle sgemm, dgemm, getThreads, setThreads;
    private final String core, kernels;

    private OpenBlas(String library, SymbolLookup lookup, MethodHandle sgemm, MethodHandle dgemm,
                     MethodHandle getThreads, MethodHandle setThreads, String core, String kernels) {
        this.library = library;
        this.core = core;
        this.kernels = kernels;
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
        String exported = System.getenv("OPENBLAS_CORETYPE"), choice = System.getProperty("brain2img.blas.coretype", "auto");
        boolean avx512 = CpuFeatures.hasAll(SKYLAKEX_FLAGS);
        coreToSet(exported, choice, avx512).ifPresent(core -> setCoreType(linker, core));
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
                String core = coreName(linker, lib);
                String kernels = core + " kernels" + (avx512Unused(exported, choice, avx512, core)
                        ? " (OPENBLAS_CORETYPE=" + exported + " is exported; -Dbrain2img.blas.coretype=SkylakeX uses this CPU's AVX-512)"
                        : "");
                OpenBlas blas = new OpenBlas(name, lib, linker.downcallHandle(sg.get(), sgd, critical),
                        linker.downcallHandle(dg.get(), dgd, critical),
                        linker.downcallHandle(gt.get(), FunctionDescriptor.of(I)),
                        linker.downcallHandle(st.get(), FunctionDescriptor.ofVoid(I)), core, kernels);
                // as many BLAS threads as the engine's own pool (-Dbrain2img.threads), not one per core of the host
                blas.setThreads(Parallel.threads());
                return Optional.of(blas);
            } catch (IllegalArgumentException | UnsatisfiedLinkError | IllegalCallerException e) {
                // not installed here, or native access not enabled: stay on pure Java
            }
        }
        return Optional.empty();
    }

    /** Sets {@code OPENBLAS_CORETYPE} in this process's environment, which OpenBLAS reads when it loads. */
    private static void setCoreType(Linker linker, String core) {
        Optional<MemorySegment> setenv = linker.defaultLookup().find("setenv");
        if (setenv.isEmpty()) return;
        try (Arena a = Arena.ofConfined()) {
            MethodHandle h = linker.downcallHandle(setenv.get(), FunctionDescriptor.of(I, A, A, I));
            int rc = (int) h.invokeExact(a.allocateFrom("OPENBLAS_CORETYPE"), a.allocateFrom(core), 1);
            if (rc != 0) throw new IllegalStateException("setenv(OPENBLAS_CORETYPE) returned " + rc);
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("setenv(OPENBLAS_CORETYPE) failed: " + t, t);
        }
    }

    /**
     * The kernel family to make OpenBLAS use, from -Dbrain2img.blas.coretype (choice), the exported
     * OPENBLAS_CORETYPE (null if none) and whether the CPU has the AVX-512 subsets: "library" → none; "auto" →
     * SkylakeX on an AVX-512 CPU unless the user exported a choice; any other name → that name, over an export.
     */
    static Optional<String> coreToSet(String exported, String choice, boolean avx512) {
        return switch (choice) {
            case "library" -> Optional.empty();
            case "auto" -> exported == null && avx512 ? Optional.of("SkylakeX") : Optional.empty();
            default -> Optional.of(choice);
        };
    }

    /** The CPU flags (as /proc/cpuinfo names them) that OpenBLAS's SkylakeX kernels execute. */
    static final List<String> SKYLAKEX_FLAGS = List.of("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl");

    /** openblas_get_corename(), or "unknown" for a library without it. */
    private static String coreName(Linker linker, SymbolLookup lib) {
        Optional<MemorySegment> f = lib.find("openblas_get_corename");
        if (f.isEmpty()) return "unknown";
        try {
            MemorySegment name = (MemorySegment) linker.downcallHandle(f.get(), FunctionDescriptor.of(A)).invokeExact();
            return name.reinterpret(64).getString(0);
        } catch (Throwable t) {
            throw new IllegalStateException("openblas_get_corename failed: " + t, t);
        }
    }

    public String library() { return library; }

    /** The kernel family the library runs (its openblas_get_corename(): "SkylakeX", "Haswell", …). */
    public String core() { return core; }

    /** "K kernels", with how to get AVX-512 ones where an exported OPENBLAS_CORETYPE kept them from this CPU at load. */
    public String kernels() { return kernels; }

    /** OpenBLAS's kernel families that use AVX-512. */
    private static final List<String> AVX512_CORES = List.of("SkylakeX", "Cooperlake", "SapphireRapids");

    /** Whether the default choice left AVX-512 kernels unused on an AVX-512 CPU because the user exported another. */
    static boolean avx512Unused(String exported, String choice, boolean avx512, String core) {
        return choice.equals("auto") && exported != null && avx512 && !AVX512_CORES.contains(core);
    }

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
