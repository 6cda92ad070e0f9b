package brain2img.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Hand-written FFM bindings of cuSOLVER's dense symmetric eigensolver ({@code libcusolver.so.12} of CUDA 13,
 * else {@code .11} of CUDA 12): {@code cusolverDn[SD]syevd} and their workspace queries, for the ridge
 * regression's eigendecomposition of X·Xᵀ. Column-major; a symmetric matrix is its own transpose, so row-major
 * callers pass it as is. C signatures: native/cusolver.md.
 */
public final class CuSolver {
    public static final int CUSOLVER_EIG_MODE_NOVECTOR = 0, CUSOLVER_EIG_MODE_VECTOR = 1;
    /** cublasFillMode_t. */
    public static final int CUBLAS_FILL_MODE_LOWER = 0, CUBLAS_FILL_MODE_UPPER = 1;

    private static final NativeLibs.Lib LIB = NativeLibs.load(CudaStatus::cusolver, "libcusolver.so.12", "libcusolver.so.11");

    private static final MethodHandle cusolverDnCreate = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cusolverDnCreate");
    private static final MethodHandle cusolverDnDestroy = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cusolverDnDestroy");
    private static final MethodHandle cusolverDnSetStream = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cusolverDnSetStream");
    // cusolverDnXsyevd_bufferSize(handle, jobz, uplo, n, const T* A, lda, const T* W, int* lwork)
    private static final MethodHandle ssyevdBufferSize = LIB.bind(FunctionDescriptor.of(JAVA_INT,
            ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS), "cusolverDnSsyevd_bufferSize");
    private static final MethodHandle dsyevdBufferSize = LIB.bind(FunctionDescriptor.of(JAVA_INT,
            ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS), "cusolverDnDsyevd_bufferSize");
    // cusolverDnXsyevd(handle, jobz, uplo, n, T* A, lda, T* W, T* work, int lwork, int* devInfo)
    private static final MethodHandle ssyevd = LIB.bind(FunctionDescriptor.of(JAVA_INT,
            ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG), "cusolverDnSsyevd");
    private static final MethodHandle dsyevd = LIB.bind(FunctionDescriptor.of(JAVA_INT,
            ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG), "cusolverDnDsyevd");

    private CuSolver() {}

    /** Null when cuSOLVER is loaded with every symbol bound here, else why not. */
    public static String loadError() {
        if (LIB.error() != null) return "cuSOLVER: " + LIB.error();
        if (!LIB.missing().isEmpty()) {
            return LIB.loadedAs() + " lacks a cusolverDn symbol this backend binds";
        }
        return null;
    }

    static void check(int rc, String call) {
        LIB.check(rc, call);
    }

    public static MemorySegment create() {
        String e = loadError();
        if (e != null) throw new CudaException(e);
        return LIB.newHandle(cusolverDnCreate, "cusolverDnCreate");
    }

    public static void destroy(MemorySegment handle) {
        try {
            check((int) cusolverDnDestroy.invokeExact(handle), "cusolverDnDestroy");
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    public static void setStream(MemorySegment handle, MemorySegment stream) {
        try {
            check((int) cusolverDnSetStream.invokeExact(handle, stream), "cusolverDnSetStream");
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    /** Workspace size, in elements, that {@link #syevd} needs for an n×n matrix. */
    public static int syevdBufferSize(MemorySegment handle, boolean dbl, int jobz, int uplo, int n, long a, int lda, long w) {
        try (Arena ar = Arena.ofConfined()) {
            MemorySegment lw = ar.allocate(JAVA_INT);
            MethodHandle h = dbl ? dsyevdBufferSize : ssyevdBufferSize;
            check((int) h.invokeExact(handle, jobz, uplo, n, a, lda, w, lw), dbl ? "cusolverDnDsyevd_bufferSize" : "cusolverDnSsyevd_bufferSize");
            return lw.get(JAVA_INT, 0);
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    /**
     * Eigenvalues (ascending, into w) and, with {@link #CUSOLVER_EIG_MODE_VECTOR}, eigenvectors (overwriting a,
     * column j the vector of w[j]) of the symmetric n×n device matrix a. {@code info} is a device int that the
     * caller reads back: 0 ok, i > 0 means i off-diagonal elements did not converge.
     */
    public static void syevd(MemorySegment handle, boolean dbl, int jobz, int uplo, int n, long a, int lda, long w,
                             long work, int lwork, long info) {
        try {
            MethodHandle h = dbl ? dsyevd : ssyevd;
            check((int) h.invokeExact(handle, jobz, uplo, n, a, lda, w, work, lwork, info), dbl ? "cusolverDnDsyevd" : "cusolverDnSsyevd");
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }
}
