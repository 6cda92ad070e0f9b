package brain2img.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Runs every CUDA kernel without a GPU: kernels/emu compiles the .cu sources as C++ against a CPU emulation of
 * the CUDA execution model (real threads per block, barriers, shared memory, warp shuffles) and compares each
 * kernel, at the backend's launch configurations, with a naive double-precision reference. Needs g++ (C++20).
 */
class KernelEmulationTest {

    @Test
    void everyKernelMatchesItsReferenceUnderEmulation(@TempDir Path tmp) throws Exception {
        assumeTrue(onPath("g++"), "g++ not installed here");
        Process p = new ProcessBuilder("bash", Path.of("..", "kernels", "emu", "run.sh").toString(), tmp.resolve("emu").toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(10, TimeUnit.MINUTES), "kernel emulation timed out");
        Matcher m = Pattern.compile("(?m)^(\\d+) passed, (\\d+) failed$").matcher(out);
        assertTrue(m.find(), "no summary from the kernel emulation:\n" + out);
        StringBuilder failures = new StringBuilder();
        for (String line : out.split("\n")) if (line.startsWith("FAIL")) failures.append(line).append('\n');
        assertEquals(0, Integer.parseInt(m.group(2)), "kernels failing under emulation:\n" + failures);
        assertTrue(Integer.parseInt(m.group(1)) >= 40, "too few kernel cases ran:\n" + out);
        assertEquals(0, p.exitValue(), out);
    }

    private static boolean onPath(String exe) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, exe))) return true;
        }
        return false;
    }
}
