package brain2img.backend;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which OpenBLAS kernels the engine asks for ({@link OpenBlas#coreToSet}), and that the library then runs them. */
class OpenBlasCoreTest {
    @Test
    void decisionTable() {
        assertEquals(Optional.of("SkylakeX"), OpenBlas.coreToSet(null, "auto", true));
        assertEquals(Optional.empty(), OpenBlas.coreToSet(null, "auto", false));
        assertEquals(Optional.empty(), OpenBlas.coreToSet("Haswell", "auto", true), "an exported choice stands");
        assertEquals(Optional.of("Zen"), OpenBlas.coreToSet("Haswell", "Zen", true), "the property overrides it");
        assertEquals(Optional.empty(), OpenBlas.coreToSet(null, "library", true));
    }

    /** The describe() hint: only when the default choice gave way to an exported non-AVX-512 family on an AVX-512 CPU. */
    @Test
    void hintWhereAnExportKeepsAvx512Unused() {
        assertTrue(OpenBlas.avx512Unused("Haswell", "auto", true, "Haswell"));
        assertFalse(OpenBlas.avx512Unused("Haswell", "auto", false, "Haswell"), "no AVX-512 to use");
        assertFalse(OpenBlas.avx512Unused("Cooperlake", "auto", true, "Cooperlake"), "already AVX-512 kernels");
        assertFalse(OpenBlas.avx512Unused(null, "auto", true, "Haswell"), "nothing exported");
        assertFalse(OpenBlas.avx512Unused("Haswell", "Haswell", true, "Haswell"), "asked for by property");
    }

    /** Prints the kernel family the system OpenBLAS runs in this JVM (for the child processes below). */
    public static final class PrintCore {
        public static void main(String[] args) {
            System.out.print(OpenBlas.system().map(OpenBlas::core).orElse("none"));
        }
    }

    /** Fresh JVMs (without this one's -Dbrain2img.blas=off), since the library reads OPENBLAS_CORETYPE once, when it loads. */
    @Test
    void theLibraryRunsTheKernelsChosen() throws IOException, InterruptedException {
        Assumptions.assumeTrue(CpuFeatures.hasAll(OpenBlas.SKYLAKEX_FLAGS), "this CPU lacks AVX-512");
        String auto = core(null, "auto");
        Assumptions.assumeFalse(auto.equals("none"), "no system OpenBLAS");
        assertEquals("SkylakeX", auto, "auto on an AVX-512 CPU");
        assertEquals("Haswell", core("Haswell", "auto"), "an exported OPENBLAS_CORETYPE is kept");
        assertEquals("SkylakeX", core("Haswell", "SkylakeX"), "-Dbrain2img.blas.coretype overrides it");
    }

    private static String core(String exported, String choice) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-Dbrain2img.blas.coretype=" + choice, "-cp", System.getProperty("java.class.path"), PrintCore.class.getName()));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        if (exported == null) pb.environment().remove("OPENBLAS_CORETYPE");
        else pb.environment().put("OPENBLAS_CORETYPE", exported);
        Process p = pb.redirectError(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
        assertEquals(0, p.exitValue(), "child JVM failed");
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
}
