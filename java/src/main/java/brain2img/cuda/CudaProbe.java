package brain2img.cuda;

/**
 * Decides, once per JVM, whether the CUDA backend can run here, and if not, says precisely why: the driver
 * library is missing, {@code cuInit} failed (with the status name), no device, a device older than the kernels
 * (compute capability 8.0), a driver too old for the bundled PTX, cuBLAS missing, or the PTX missing from the jar.
 */
public final class CudaProbe {
    /** Device ordinal used by the backend: the system property {@code brain2img.cuda.device}, default 0. */
    public static final String DEVICE_PROPERTY = "brain2img.cuda.device";
    /** PTX ISA 9.0 (nvcc 13.0) JIT-compiles only on a CUDA 13.0+ driver. */
    static final int MIN_DRIVER = 13000;

    private static volatile String reason;
    private static volatile boolean probed;

    private CudaProbe() {}

    public static int deviceOrdinal() {
        return Integer.getInteger(DEVICE_PROPERTY, 0);
    }

    /** Null when a CUDA backend can be created here, else a one-line reason. */
    public static String unavailableReason() {
        if (!probed) {
            synchronized (CudaProbe.class) {
                if (!probed) {
                    reason = probe();
                    probed = true;
                }
            }
        }
        return reason;
    }

    private static String probe() {
        String e = CudaDriver.loadError();
        if (e != null) return e;
        try {
            CudaDriver.init();
        } catch (CudaException ex) {
            return ex.getMessage();
        }
        int count = CudaDriver.deviceCount();
        if (count == 0) return "no CUDA device visible (cuDeviceGetCount = 0; check CUDA_VISIBLE_DEVICES)";
        int ordinal = deviceOrdinal();
        if (ordinal < 0 || ordinal >= count) {
            return "-D" + DEVICE_PROPERTY + "=" + ordinal + " but only " + count + " CUDA device(s) are visible";
        }
        int dev = CudaDriver.device(ordinal);
        int major = CudaDriver.attribute(CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
        int minor = CudaDriver.attribute(CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
        if (major < 8) {
            return CudaDriver.deviceName(dev) + " has compute capability " + major + "." + minor
                    + "; the kernels are built for 8.0 (Ampere) and newer";
        }
        int drv = CudaDriver.driverVersion();
        if (drv < MIN_DRIVER) {
            return "the driver supports CUDA " + drv / 1000 + "." + drv % 1000 / 10
                    + "; the bundled PTX (nvcc 13.0) needs a CUDA 13.0+ driver";
        }
        String blas = CuBlas.loadError();
        if (blas != null) return blas;
        String ptx = Kernels.missingPtx();
        if (ptx != null) return ptx;
        return null;
    }
}
