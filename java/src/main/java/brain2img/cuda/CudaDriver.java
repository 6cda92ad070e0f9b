package brain2img.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Hand-written FFM bindings of the CUDA driver API ({@code libcuda.so.1}), the subset the CUDA backend uses.
 * C signatures: native/cuda-driver.md. Handles (CUcontext, CUstream, CUevent, CUmodule, CUfunction, CUgraph,
 * CUgraphExec) are opaque pointers, passed as {@link MemorySegment}s; device pointers (CUdeviceptr) are
 * {@code long}s. Every call's CUresult is checked; a failure throws {@link CudaException} naming the call and
 * the status, e.g. "cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY (2)".
 */
public final class CudaDriver {
    public static final int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    public static final int CU_STREAM_NON_BLOCKING = 1;
    public static final int CU_EVENT_DEFAULT = 0;
    public static final int CU_STREAM_CAPTURE_MODE_GLOBAL = 0;
    public static final int CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1;
    public static final int CU_STREAM_CAPTURE_MODE_RELAXED = 2;
    public static final int CUDA_ERROR_OUT_OF_MEMORY = 2;
    private static final int CU_JIT_ERROR_LOG_BUFFER = 5;
    private static final int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;

    private static final NativeLibs.Lib LIB = NativeLibs.load(CudaStatus::driver, "libcuda.so.1");

    private static final MethodHandle cuInit = LIB.bind(FunctionDescriptor.of(JAVA_INT, JAVA_INT), "cuInit");
    private static final MethodHandle cuDriverGetVersion = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuDriverGetVersion");
    private static final MethodHandle cuDeviceGetCount = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuDeviceGetCount");
    private static final MethodHandle cuDeviceGet = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), "cuDeviceGet");
    private static final MethodHandle cuDeviceGetName = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), "cuDeviceGetName");
    private static final MethodHandle cuDeviceGetAttribute = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), "cuDeviceGetAttribute");
    private static final MethodHandle cuDeviceTotalMem = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), "cuDeviceTotalMem_v2");
    private static final MethodHandle cuDevicePrimaryCtxRetain = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), "cuDevicePrimaryCtxRetain");
    private static final MethodHandle cuDevicePrimaryCtxRelease = LIB.bind(FunctionDescriptor.of(JAVA_INT, JAVA_INT), "cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease");
    private static final MethodHandle cuCtxSetCurrent = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuCtxSetCurrent");
    private static final MethodHandle cuMemGetInfo = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cuMemGetInfo_v2");
    private static final MethodHandle cuStreamCreate = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), "cuStreamCreate");
    private static final MethodHandle cuStreamDestroy = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuStreamDestroy_v2");
    private static final MethodHandle cuStreamSynchronize = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuStreamSynchronize");
    private static final MethodHandle cuEventCreate = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), "cuEventCreate");
    private static final MethodHandle cuEventRecord = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cuEventRecord");
    private static final MethodHandle cuEventSynchronize = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuEventSynchronize");
    private static final MethodHandle cuEventElapsedTime = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS), "cuEventElapsedTime_v2", "cuEventElapsedTime");
    private static final MethodHandle cuEventDestroy = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuEventDestroy_v2");
    private static final MethodHandle cuMemAlloc = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), "cuMemAlloc_v2");
    private static final MethodHandle cuMemFree = LIB.bind(FunctionDescriptor.of(JAVA_INT, JAVA_LONG), "cuMemFree_v2");
    private static final MethodHandle cuMemcpyHtoDAsync = LIB.bind(FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS), "cuMemcpyHtoDAsync_v2");
    private static final MethodHandle cuMemcpyDtoHAsync = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS), "cuMemcpyDtoHAsync_v2");
    private static final MethodHandle cuMemcpyDtoDAsync = LIB.bind(FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS), "cuMemcpyDtoDAsync_v2");
    private static final MethodHandle cuMemsetD8Async = LIB.bind(FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_BYTE, JAVA_LONG, ADDRESS), "cuMemsetD8Async");
    private static final MethodHandle cuModuleLoadDataEx = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS), "cuModuleLoadDataEx");
    private static final MethodHandle cuModuleUnload = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuModuleUnload");
    private static final MethodHandle cuModuleGetFunction = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS), "cuModuleGetFunction");
    private static final MethodHandle cuLaunchKernel = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS,
            JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS), "cuLaunchKernel");
    private static final MethodHandle cuStreamBeginCapture = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), "cuStreamBeginCapture_v2");
    private static final MethodHandle cuStreamEndCapture = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cuStreamEndCapture");
    private static final MethodHandle cuGraphInstantiate = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG), "cuGraphInstantiateWithFlags");
    private static final MethodHandle cuGraphLaunch = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cuGraphLaunch");
    private static final MethodHandle cuGraphDestroy = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuGraphDestroy");
    private static final MethodHandle cuGraphExecDestroy = LIB.bind(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuGraphExecDestroy");

    private CudaDriver() {}

    /** Null when libcuda.so.1 was loaded with every symbol bound here, else why not. */
    public static String loadError() {
        if (LIB.error() != null) return LIB.error() + " (is the NVIDIA driver installed?)";
        if (!LIB.missing().isEmpty()) return LIB.loadedAs() + " lacks " + LIB.missing() + " (driver too old; CUDA 12.0+ needed)";
        return null;
    }

    static void check(int rc, String call) {
        LIB.check(rc, call);
    }

    private static void requireLoaded() {
        String e = loadError();
        if (e != null) throw new CudaException(e);
    }

    // ------------------------------------------------------------------ initialisation and devices

    /** cuInit(0); throws with the status name (e.g. CUDA_ERROR_NO_DEVICE) where the driver cannot start. */
    public static void init() {
        requireLoaded();
        try {
            check((int) cuInit.invokeExact(0), "cuInit");
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    /** The driver's CUDA version as 1000·major + 10·minor (13000 for CUDA 13.0). */
    public static int driverVersion() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check((int) cuDriverGetVersion.invokeExact(v), "cuDriverGetVersion");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    public static int deviceCount() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check((int) cuDeviceGetCount.invokeExact(v), "cuDeviceGetCount");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    /** The CUdevice handle of device {@code ordinal}. */
    public static int device(int ordinal) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check((int) cuDeviceGet.invokeExact(v, ordinal), "cuDeviceGet");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    public static String deviceName(int dev) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(256);
            check((int) cuDeviceGetName.invokeExact(buf, 256, dev), "cuDeviceGetName");
            return buf.getString(0, StandardCharsets.UTF_8);
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    public static int attribute(int attr, int dev) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check((int) cuDeviceGetAttribute.invokeExact(v, attr, dev), "cuDeviceGetAttribute(" + attr + ")");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    public static long totalMem(int dev) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_LONG);
            check((int) cuDeviceTotalMem.invokeExact(v, dev), "cuDeviceTotalMem_v2");
            return v.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    // ------------------------------------------------------------------ contexts

    /** The device's primary context (shared with any other CUDA user in the process). */
    public static MemorySegment primaryCtxRetain(int dev) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check((int) cuDevicePrimaryCtxRetain.invokeExact(p, dev), "cuDevicePrimaryCtxRetain");
            return p.get(ADDRESS, 0);
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    public static void primaryCtxRelease(int dev) {
        try {
            check((int) cuDevicePrimaryCtxRelease.invokeExact(dev), "cuDevicePrimaryCtxRelease");
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    /** Makes {@code ctx} current on the calling thread (the driver's current context is per thread). */
    public static void ctxSetCurrent(MemorySegment ctx) {
        try {
            check((int) cuCtxSetCurrent.invokeExact(ctx), "cuCtxSetCurrent");
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    /** {free, total} bytes of device memory in the current context. */
    public static long[] memGetInfo() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment f = a.allocate(JAVA_LONG), t = a.allocate(JAVA_LONG);
            check((int) cuMemGetInfo.invokeExact(f, t), "cuMemGetInfo_v2");
            return new long[]{f.get(JAVA_LONG, 0), t.get(JAVA_LONG, 0)};
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    // ------------------------------------------------------------------ streams and events

    public static MemorySegment streamCreate(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check((int) cuStreamCreate.invokeExact(p, flags), "cuStreamCreate");
            return p.get(ADDRESS, 0);
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    public static void streamDestroy(MemorySegment stream) {
        try {
            check((int) cuStreamDestroy.invokeExact(stream), "cuStreamDestroy_v2");
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    /** Waits for all work on the stream; asynchronous kernel faults surface here. */
    public static void streamSynchronize(MemorySegment stream) {
        try {
            check((int) cuStreamSynchronize.invokeExact(stream), "cuStreamSynchronize");
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    public static MemorySegment eventCreate(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check((int) cuEventCreate.invokeExact(p, flags), "cuEventCreate");
            return p.get(ADDRESS, 0);
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    public static void eventRecord(MemorySegment event, MemorySegment stream) {
        try {
            check((int) cuEventRecord.invokeExact(event, stream), "cuEventRecord");
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    public static void eventSynchronize(MemorySegment event) {
        try {
            check((int) cuEventSynchronize.invokeExact(event), "cuEventSynchronize");
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    /** Milliseconds between two recorded (and completed) events. */
    public static float eventElapsedMs(MemorySegment start, MemorySegment end) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ms = a.allocate(JAVA_FLOAT);
            check((int) cuEventElapsedTime.invokeExact(ms, start, end), "cuEventElapsedTime");
            return ms.get(JAVA_FLOAT, 0);
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    public static void eventDestroy(MemorySegment event) {
        try {
            check((int) cuEventDestroy.invokeExact(event), "cuEventDestroy_v2");
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    // ------------------------------------------------------------------ memory

    /** cuMemAlloc; the exception's status is {@link #CUDA_ERROR_OUT_OF_MEMORY} when the device is full. */
    public static long memAlloc(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            check((int) cuMemAlloc.invokeExact(p, bytes), "cuMemAlloc_v2(" + bytes + " bytes)");
            return p.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    public static void memFree(long ptr) {
        try {
            check((int) cuMemFree.invokeExact(ptr), "cuMemFree_v2");
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    /** Host → device copy; {@code src} must be native memory. */
    public static void memcpyHtoDAsync(long dst, MemorySegment src, long bytes, MemorySegment stream) {
        try {
            check((int) cuMemcpyHtoDAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyHtoDAsync_v2");
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    /** Device → host copy; {@code dst} must be native memory. */
    public static void memcpyDtoHAsync(MemorySegment dst, long src, long bytes, MemorySegment stream) {
        try {
            check((int) cuMemcpyDtoHAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyDtoHAsync_v2");
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    public static void memcpyDtoDAsync(long dst, long src, long bytes, MemorySegment stream) {
        try {
            check((int) cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyDtoDAsync_v2");
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    public static void memsetD8Async(long dst, byte value, long count, MemorySegment stream) {
        try {
            check((int) cuMemsetD8Async.invokeExact(dst, value, count, stream), "cuMemsetD8Async");
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    // ------------------------------------------------------------------ modules and launches

    /**
     * Loads a PTX (or cubin) image; the driver JIT-compiles PTX for the current device. A failure carries the
     * JIT's error log in the message.
     */
    public static MemorySegment moduleLoadData(byte[] image, String what) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment img = a.allocate(image.length + 1L);
            MemorySegment.copy(image, 0, img, JAVA_BYTE, 0, image.length);
            int logSize = 16 << 10;
            MemorySegment log = a.allocate(logSize);
            MemorySegment opts = a.allocateFrom(JAVA_INT, CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES);
            MemorySegment vals = a.allocate(ADDRESS, 2);
            vals.setAtIndex(ADDRESS, 0, log);
            vals.setAtIndex(ADDRESS, 1, MemorySegment.ofAddress(logSize)); // the size travels in the pointer slot
            MemorySegment p = a.allocate(ADDRESS);
            int rc = (int) cuModuleLoadDataEx.invokeExact(p, img, 2, opts, vals);
            if (rc != 0) {
                String jit = log.getString(0, StandardCharsets.UTF_8).strip();
                throw new CudaException("cuModuleLoadDataEx(" + what + "): " + CudaStatus.driver(rc)
                        + (jit.isEmpty() ? "" : "; JIT log: " + jit.replace('\n', ' ')), rc);
            }
            return p.get(ADDRESS, 0);
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    public static void moduleUnload(MemorySegment module) {
        try {
            check((int) cuModuleUnload.invokeExact(module), "cuModuleUnload");
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    public static MemorySegment moduleGetFunction(MemorySegment module, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check((int) cuModuleGetFunction.invokeExact(p, module, a.allocateFrom(name)), "cuModuleGetFunction(" + name + ")");
            return p.get(ADDRESS, 0);
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    /** cuLaunchKernel with {@code params} a void*[] of pointers to each argument's value. */
    public static void launchKernel(MemorySegment f, int gx, int gy, int gz, int bx, int by, int bz, int sharedBytes,
                                    MemorySegment stream, MemorySegment params, String name) {
        try {
            check((int) cuLaunchKernel.invokeExact(f, gx, gy, gz, bx, by, bz, sharedBytes, stream, params, MemorySegment.NULL),
                    "cuLaunchKernel(" + name + ", grid " + gx + "x" + gy + "x" + gz + ", block " + bx + "x" + by + "x" + bz + ")");
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    // ------------------------------------------------------------------ graphs

    public static void streamBeginCapture(MemorySegment stream, int mode) {
        try {
            check((int) cuStreamBeginCapture.invokeExact(stream, mode), "cuStreamBeginCapture_v2");
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    /** Ends capture and returns the captured CUgraph. */
    public static MemorySegment streamEndCapture(MemorySegment stream) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check((int) cuStreamEndCapture.invokeExact(stream, p), "cuStreamEndCapture");
            return p.get(ADDRESS, 0);
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    public static MemorySegment graphInstantiate(MemorySegment graph) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check((int) cuGraphInstantiate.invokeExact(p, graph, 0L), "cuGraphInstantiateWithFlags");
            return p.get(ADDRESS, 0);
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    public static void graphLaunch(MemorySegment exec, MemorySegment stream) {
        try {
            check((int) cuGraphLaunch.invokeExact(exec, stream), "cuGraphLaunch");
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    public static void graphDestroy(MemorySegment graph) {
        try {
            check((int) cuGraphDestroy.invokeExact(graph), "cuGraphDestroy");
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }

    public static void graphExecDestroy(MemorySegment exec) {
        try {
            check((int) cuGraphExecDestroy.invokeExact(exec), "cuGraphExecDestroy");
        } catch (Throwable t) { throw NativeLibs.rethrow(t); }
    }
}
