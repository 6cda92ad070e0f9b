package brain2img.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Hand-written FFM bindings of cuBLAS ({@code libcublas.so.13}, else {@code .12}): handle management and
 * {@code cublasGemmStridedBatchedEx}, the one GEMM the backend needs (fp32, tf32, fp16 and bf16 inputs, fp32
 * accumulation and output). cuBLAS is column-major; {@link brain2img.cuda.CudaBackend} maps row-major calls.
 * C signatures: native/cublas.md. Statuses are reported by name.
 */
public final class CuBlas {
    public static final int CUBLAS_OP_N = 0;
    public static final int CUBLAS_OP_T = 1;
    /** cudaDataType_t (library_types.h). */
    public static final int CUDA_R_32F = 0, CUDA_R_16F = 2, CUDA_R_16BF = 14;
    /** cublasComputeType_t. */
    public static final int CUBLAS_COMPUTE_32F = 68, CUBLAS_COMPUTE_32F_PEDANTIC = 69,
            CUBLAS_COMPUTE_32F_FAST_16F = 74, CUBLAS_COMPUTE_32F_FAST_16BF = 75, CUBLAS_COMPUTE_32F_FAST_TF32 = 77;
    /** cublasGemmAlgo_t: let cuBLAS choose (tensor cores where the compute type allows). */
    public static final int CUBLAS_GEMM_DEFAULT = -1;

    private static final NativeLibs.Lib LIB = NativeLibs.load(CudaStatus::cublas, "libcublas.so.13", "libcublas.so.12");

    private static final MethodHandle cublasCreate = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cublasCreate_v2");
    private static final MethodHandle cublasDestroy = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cublasDestroy_v2");
    private static final MethodHandle cublasSetStream = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cublasSetStream_v2");
    private static final MethodHandle cublasSetWorkspace = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), "cublasSetWorkspace_v2");
    private static final MethodHandle cublasGetVersion = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cublasGetVersion_v2");
    // cublasGemmStridedBatchedEx(handle, transa, transb, m, n, k, alpha*, A, Atype, lda, strideA (long long),
    //   B, Btype, ldb, strideB, beta*, C, Ctype, ldc, strideC, batchCount, computeType, algo)
    private static final MethodHandle cublasGemmStridedBatchedEx = LIB.bind(FunctionDescriptor.of(JAVA_INT,
            ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
            ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG,
            JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG,
            ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG,
            JAVA_INT, JAVA_INT, JAVA_INT), "cublasGemmStridedBatchedEx");

    private CuBlas() {}

    /** Null when cuBLAS is loaded with every symbol bound here, else why not. */
    public static String loadError() {
        if (LIB.error() != null) return "cuBLAS: " + LIB.error();
        if (!LIB.missing().isEmpty()) {
            return LIB.loadedAs() + " lacks a cuBLAS v2 symbol this backend binds (cuBLAS 12+ needed)";
        }
        return null;
    }

    /** Which file was loaded, e.g. "/usr/local/cuda/lib64/libcublas.so.13". */
    public static String loadedAs() { return LIB.loadedAs(); }

    static void check(int rc, String call) {
        LIB.check(rc, call);
    }

    /** A new cublasHandle_t bound to the current context. */
    public static MemorySegment create() {
        String e = loadError();
        if (e != null) throw new CudaException(e);
        return LIB.newHandle(cublasCreate, "cublasCreate_v2");
    }

    public static void destroy(MemorySegment handle) {
        try {
            check((int) cublasDestroy.invokeExact(handle), "cublasDestroy_v2");
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    public static void setStream(MemorySegment handle, MemorySegment stream) {
        try {
            check((int) cublasSetStream.invokeExact(handle, stream), "cublasSetStream_v2");
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    /**
     * Gives cuBLAS a fixed workspace, so that it allocates nothing during CUDA graph capture.
     * {@code ptr} is a device pointer of {@code bytes} bytes.
     */
    public static void setWorkspace(MemorySegment handle, long ptr, long bytes) {
        try {
            check((int) cublasSetWorkspace.invokeExact(handle, ptr, bytes), "cublasSetWorkspace_v2");
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    /** cuBLAS version as major·10000 + minor·100 + patch. */
    public static int version(MemorySegment handle) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check((int) cublasGetVersion.invokeExact(handle, v), "cublasGetVersion_v2");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    /**
     * Column-major C_i = alpha·op(A_i)·op(B_i) + beta·C_i for i in [0,batch), with fp32 scalars (host memory),
     * C in fp32. Pointers are device addresses; strides in elements.
     */
    public static void gemmStridedBatched(MemorySegment handle, int opA, int opB, int m, int n, int k, float alpha,
                                          long a, int aType, int lda, long strideA,
                                          long b, int bType, int ldb, long strideB,
                                          float beta, long c, int ldc, long strideC, int batch, int computeType) {
        try (Arena ar = Arena.ofConfined()) {
            MemorySegment al = ar.allocateFrom(JAVA_FLOAT, alpha), be = ar.allocateFrom(JAVA_FLOAT, beta);
            int rc = (int) cublasGemmStridedBatchedEx.invokeExact(handle, opA, opB, m, n, k,
                    al, a, aType, lda, strideA, b, bType, ldb, strideB,
                    be, c, CUDA_R_32F, ldc, strideC, batch, computeType, CUBLAS_GEMM_DEFAULT);
            if (rc != 0) {
                throw new CudaException("cublasGemmStridedBatchedEx(m=" + m + ", n=" + n + ", k=" + k + ", batch=" + batch
                        + ", types " + aType + "/" + bType + ", compute " + computeType + "): " + CudaStatus.cublas(rc), rc);
            }
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }
}
