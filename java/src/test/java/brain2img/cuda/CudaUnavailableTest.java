package brain2img.cuda;

import brain2img.backend.Backend;
import brain2img.backend.Backends;
import brain2img.backend.CpuBackend;
import brain2img.cli.Main;
import brain2img.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The "no usable GPU" path, which every machine without one (CI included) takes. */
class CudaUnavailableTest {

    private static String reason() {
        String why = Backends.cudaUnavailableReason();
        assumeTrue(why != null, "a usable GPU is present; the unavailable path is not taken here");
        return why;
    }

    @Test
    void reasonIsOneSpecificLine() {
        String why = reason();
        assertFalse(why.isBlank());
        assertFalse(why.contains("\n"), why);
        // It names what failed: the driver library, cuInit's status, the device, cuBLAS or the PTX.
        assertTrue(why.matches("(?s).*(libcuda\\.so\\.1|CUDA_ERROR_\\w+|CUDA device|compute capability|driver supports|cuBLAS|libcublas|PTX).*"), why);
        if (CudaDriver.loadError() != null) {
            assertTrue(why.startsWith("libcuda.so.1"), why);
            assertTrue(why.contains("not found") || why.contains("could not be loaded"), why);
        }
    }

    @Test
    void reasonIsStable() {
        assertEquals(reason(), Backends.cudaUnavailableReason());
    }

    @Test
    void deviceCudaFailsWithTheReason() {
        String why = reason();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backends.create("cuda", null));
        assertEquals("CUDA backend unavailable: " + why, e.getMessage());
        assertEquals(e.getMessage(), assertThrows(IllegalStateException.class, CudaBackend::new).getMessage());
    }

    @Test
    void deviceAutoFallsBackToCpuWithANote() {
        String why = reason();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (Backend b = Backends.create("auto", new PrintStream(buf, true, StandardCharsets.UTF_8))) {
            assertInstanceOf(CpuBackend.class, b);
        }
        assertEquals("note: using the CPU backend (CUDA unavailable: " + why + ")", buf.toString(StandardCharsets.UTF_8).strip());
    }

    @Test
    void cliDeviceCudaIsAOneLineFailureThatWritesNothing(@TempDir Path tmp) {
        String why = reason();
        var cl = Main.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        Path out = tmp.resolve("demo");
        int rc = cl.execute("demo", "--device", "cuda", "--out", out.toString());
        assertEquals(1, rc);
        assertEquals("brain2img demo: error: CUDA backend unavailable: " + why, err.toString().strip());
        assertFalse(Files.exists(out), "demo wrote " + out + " before failing on the device");
    }

    @Test
    void cliCudaInfoAndBenchSayWhy() {
        String why = reason();
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        var cl = Main.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        try {
            assertEquals(1, cl.execute("cuda", "info"));
            assertEquals(1, cl.execute("cuda", "bench"));
        } finally {
            System.setOut(old);
        }
        assertEquals("CUDA unavailable: " + why, out.toString(StandardCharsets.UTF_8).strip());
        assertEquals("brain2img bench: error: CUDA backend unavailable: " + why, err.toString().strip());
    }

    /** A real command with {@code --device auto} runs on the CPU and says why on stderr. */
    @Test
    void cliDeviceAutoRunsOnTheCpu(@TempDir Path tmp) {
        String why = reason();
        Path cases = Shared.sdTiny().resolve("cases");
        Path out = tmp.resolve("eps.npy");
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int rc;
        try {
            rc = Main.execute("sd", "unet", "--weights", Shared.sdTiny().resolve("weights").toString(),
                    "--latent", cases.resolve("unet_in_latent.npy").toString(),
                    "--timesteps", cases.resolve("unet_in_timesteps.npy").toString(),
                    "--context", cases.resolve("unet_in_context.npy").toString(),
                    "--out", out.toString(), "--device", "auto");
        } finally {
            System.setErr(old);
        }
        String log = err.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, log);
        assertTrue(log.contains("note: using the CPU backend (CUDA unavailable: " + why + ")"), log);
        assertTrue(log.contains("backend: cpu"), log);
        assertTrue(Files.isRegularFile(out));
    }
}
