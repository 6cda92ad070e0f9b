package brain2img.cuda;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * One fp32 {@link CudaBackend} per test class, opened before its first test and closed after its last: it makes
 * the device's context current and provides the stream that the driver-, cuSOLVER- and ridge-level GPU tests
 * issue their calls on. Subclasses still carry {@code @GpuTest}, which skips the class before this opens anything
 * where no GPU is usable. Test classes run one at a time, so the one static field is never shared by two.
 */
abstract class Fp32GpuFixture {
    static CudaBackend gpu;

    @BeforeAll
    static void open() {
        gpu = new CudaBackend(CudaBackend.Precision.FP32);
    }

    @AfterAll
    static void close() {
        if (gpu != null) gpu.close();
        gpu = null;
    }
}
