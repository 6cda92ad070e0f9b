package brain2img.cuda;

import brain2img.tensor.Tensor;
import brain2img.testing.GpuTest;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The driver bindings on a real device: queries, copies, events, errors by name, and CUDA graph capture/replay. */
@GpuTest
class CudaDriverGpuTest extends Fp32GpuFixture {
    @Test
    void deviceQueries() {
        int dev = CudaDriver.device(CudaProbe.deviceOrdinal());
        assertFalse(CudaDriver.deviceName(dev).isBlank());
        assertTrue(CudaDriver.attribute(CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev) >= 8);
        assertTrue(CudaDriver.attribute(CudaDriver.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev) > 0);
        long total = CudaDriver.totalMem(dev);
        long[] info = CudaDriver.memGetInfo();
        assertTrue(total > (1L << 30));
        assertTrue(info[0] <= info[1] && info[1] <= total + (1L << 30), java.util.Arrays.toString(info));
        assertTrue(CudaDriver.driverVersion() >= CudaProbe.MIN_DRIVER);
        System.out.println("[gpu] " + CudaDriver.deviceName(dev) + ", driver " + CudaDriver.driverVersion() + ", cuBLAS " + CuBlas.loadedAs());
    }

    @Test
    void copiesRoundTripBitExactly() {
        byte[] data = new byte[3 * 1024 * 1024 + 17];
        new Random(5).nextBytes(data);
        long a = CudaDriver.memAlloc(data.length), b = CudaDriver.memAlloc(data.length);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(data.length), dst = arena.allocate(data.length);
            MemorySegment.copy(data, 0, src, JAVA_BYTE, 0, data.length);
            CudaDriver.memcpyHtoDAsync(a, src, data.length, gpu.stream());
            CudaDriver.memcpyDtoDAsync(b, a, data.length, gpu.stream());
            CudaDriver.memsetD8Async(a, (byte) 0x5a, 100, gpu.stream());
            CudaDriver.memcpyDtoHAsync(dst, b, data.length, gpu.stream());
            CudaDriver.streamSynchronize(gpu.stream());
            assertArrayEquals(data, dst.toArray(JAVA_BYTE));
            CudaDriver.memcpyDtoHAsync(dst, a, 100, gpu.stream());
            CudaDriver.streamSynchronize(gpu.stream());
            for (int i = 0; i < 100; i++) assertEquals((byte) 0x5a, dst.get(JAVA_BYTE, i));
        } finally {
            CudaDriver.memFree(a);
            CudaDriver.memFree(b);
        }
    }

    @Test
    void eventsTimeWork() {
        MemorySegment e0 = CudaDriver.eventCreate(CudaDriver.CU_EVENT_DEFAULT), e1 = CudaDriver.eventCreate(CudaDriver.CU_EVENT_DEFAULT);
        CudaDriver.eventRecord(e0, gpu.stream());
        Tensor x = gpu.upload(Tensor.zeros(1 << 16));
        for (int i = 0; i < 10; i++) x = gpu.axpby(1f, x, 1f, x);
        CudaDriver.eventRecord(e1, gpu.stream());
        CudaDriver.eventSynchronize(e1);
        float ms = CudaDriver.eventElapsedMs(e0, e1);
        assertTrue(ms >= 0 && ms < 10_000, "elapsed " + ms);
        CudaDriver.eventDestroy(e0);
        CudaDriver.eventDestroy(e1);
    }

    @Test
    void failuresAreReportedByName() {
        CudaException e = assertThrows(CudaException.class, () -> CudaDriver.memAlloc(1L << 60));
        assertTrue(e.getMessage().matches("cuMemAlloc_v2\\(" + (1L << 60) + " bytes\\): CUDA_ERROR_\\w+ \\(\\d+\\)"), e.getMessage());
        CudaException bad = assertThrows(CudaException.class,
                () -> CudaDriver.moduleLoadData("this is not PTX".getBytes(), "junk.ptx"));
        assertTrue(bad.getMessage().startsWith("cuModuleLoadDataEx(junk.ptx): CUDA_ERROR_"), bad.getMessage());
    }

    /**
     * Captures an axpby launch on the backend's stream into a graph, then changes the input in place and replays:
     * the replay must compute with the new input into the same output buffer.
     */
    @Test
    void graphCaptureAndReplay() {
        int n = 4096;
        float[] x1 = new float[n], x2 = new float[n];
        for (int i = 0; i < n; i++) {
            x1[i] = i;
            x2[i] = -2f * i;
        }
        Tensor x = gpu.upload(Tensor.of(x1, n));
        gpu.axpby(3f, x, 0f, x).close(); // leaves a block of the output's size in the cache: no cuMemAlloc in capture
        gpu.synchronize();
        CudaDriver.streamBeginCapture(gpu.stream(), CudaDriver.CU_STREAM_CAPTURE_MODE_RELAXED);
        Tensor y = gpu.axpby(3f, x, 0f, x);
        MemorySegment graph = CudaDriver.streamEndCapture(gpu.stream());
        MemorySegment exec = CudaDriver.graphInstantiate(graph);
        try {
            CudaDriver.graphLaunch(exec, gpu.stream());
            float[] got = gpu.download(y).toFloatArray();
            for (int i = 0; i < n; i++) assertEquals(3f * x1[i], got[i], 0f);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment src = arena.allocate(4L * n);
                MemorySegment.copy(x2, 0, src, Tensor.F32, 0, n);
                CudaDriver.memcpyHtoDAsync(x.deviceMemory().address(), src, 4L * n, gpu.stream());
            }
            CudaDriver.graphLaunch(exec, gpu.stream());
            got = gpu.download(y).toFloatArray();
            for (int i = 0; i < n; i++) assertEquals(3f * x2[i], got[i], 0f);
        } finally {
            CudaDriver.graphExecDestroy(exec);
            CudaDriver.graphDestroy(graph);
        }
    }
}
