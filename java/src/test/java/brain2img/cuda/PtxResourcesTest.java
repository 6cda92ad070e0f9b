package brain2img.cuda;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The committed PTX against the kernel sources: every kernels/*.cu has PTX for sm_80 and sm_90 among the
 * resources, declaring exactly the entry points the source declares and the backend launches; where ptxas is
 * installed, every sm_90 PTX file assembles with ptxas -arch=sm_90.
 */
class PtxResourcesTest {
    static final Path KERNELS = Path.of("..", "kernels");
    static final Pattern SOURCE_ENTRY = Pattern.compile("extern \"C\" __global__ void (?:__launch_bounds__\\(\\d+\\) )?(\\w+)\\(");
    static final Pattern MACRO_ENTRY = Pattern.compile("^B2I_ATTENTION_ENTRY\\((\\w+),", Pattern.MULTILINE);
    static final Pattern PTX_ENTRY = Pattern.compile("^\\.visible \\.entry (\\w+)\\(", Pattern.MULTILINE);

    static List<Path> sources() throws IOException {
        try (Stream<Path> s = Files.list(KERNELS)) {
            return s.filter(p -> p.toString().endsWith(".cu")).sorted().toList();
        }
    }

    static Set<String> entries(Pattern p, String text) {
        Set<String> out = new TreeSet<>();
        Matcher m = p.matcher(text);
        while (m.find()) out.add(m.group(1));
        return out;
    }

    static String name(Path cu) {
        String f = cu.getFileName().toString();
        return f.substring(0, f.length() - 3);
    }

    @Test
    void everySourceHasPtxWithItsEntryPoints() throws IOException {
        List<Path> cus = sources();
        assertTrue(cus.size() >= 10, "kernel sources found: " + cus);
        for (Path cu : cus) {
            String src = Files.readString(cu);
            Set<String> expected = entries(SOURCE_ENTRY, src);
            expected.addAll(entries(MACRO_ENTRY, src));
            expected.remove("NAME"); // the macro's own parameter
            assertTrue(!expected.isEmpty(), cu + " declares no kernel");
            for (String arch : Kernels.ARCHS) {
                String ptx = new String(Kernels.readPtx(name(cu), arch), StandardCharsets.UTF_8);
                assertEquals(expected, entries(PTX_ENTRY, ptx), cu + " vs " + Kernels.resource(name(cu), arch));
                assertTrue(ptx.contains(".target " + arch), Kernels.resource(name(cu), arch) + " targets " + arch);
            }
        }
    }

    @Test
    void everyLaunchedKernelIsInItsFile() throws IOException {
        Set<String> files = new TreeSet<>();
        for (Path cu : sources()) files.add(name(cu));
        for (Kernel k : Kernel.values()) {
            assertTrue(files.contains(k.file), k + " names missing file " + k.file + ".cu");
            String ptx = new String(Kernels.readPtx(k.file, "sm_90"), StandardCharsets.UTF_8);
            assertTrue(entries(PTX_ENTRY, ptx).contains(k.entry), k.entry + " not in " + k.file);
        }
        // and nothing compiled is left unused
        Set<String> launched = new TreeSet<>();
        for (Kernel k : Kernel.values()) launched.add(k.entry);
        for (Path cu : sources()) {
            for (String e : entries(PTX_ENTRY, new String(Kernels.readPtx(name(cu), "sm_90"), StandardCharsets.UTF_8))) {
                assertTrue(launched.contains(e), e + " in " + cu + " is never launched");
            }
        }
        assertNull(Kernels.missingPtx());
    }

    @Test
    void ptxAssemblesWithPtxas() throws Exception {
        String ptxas = null;
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, "ptxas"))) ptxas = Path.of(dir, "ptxas").toString();
        }
        if (ptxas == null && Files.isExecutable(Path.of("/usr/local/cuda/bin/ptxas"))) ptxas = "/usr/local/cuda/bin/ptxas";
        assumeTrue(ptxas != null, "ptxas not installed here");
        List<String> failures = new ArrayList<>();
        // sm_90 only (the target the GPU sessions run on), to keep the suite fast on two cores
        for (Path ptx : Files.list(KERNELS.resolve("ptx")).filter(p -> p.toString().endsWith(".sm_90.ptx")).sorted().toList()) {
            String f = ptx.getFileName().toString();
            Process p = new ProcessBuilder(ptxas, "-arch=sm_90", ptx.toString(), "-o", "/dev/null").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "ptxas timed out on " + f);
            if (p.exitValue() != 0) failures.add(f + ": " + out.strip());
        }
        assertEquals(List.of(), failures);
    }
}
