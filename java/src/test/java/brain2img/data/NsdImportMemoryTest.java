package brain2img.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Imports a 30-session synthetic NSD tree (22,500 trials × 15,000 voxels: 1.35 GB of float32 responses) in a
 * forked JVM limited to {@code -Xmx2g}: the importer streams one session at a time, so it must finish; the GC
 * log gives the peak heap in use. Slow (minutes: the tree takes longer to generate than to import), so it runs
 * only when asked:
 * <pre>mvn -B -pl java test -Dtest=NsdImportMemoryTest -Dbrain2img.slow=true</pre>
 */
@EnabledIfSystemProperty(named = "brain2img.slow", matches = "true")
class NsdImportMemoryTest {
    @TempDir
    Path tmp;

    @Test
    void thirtySessionsOfFifteenThousandVoxelsUnderTwoGigabytes() throws IOException, InterruptedException {
        Synth.Options o = Synth.Options.of(7500, 15000, 30).withImageSize(32).withRepetitions(3, 3).withSessions(30).withNsdLayout(true);
        Path tree = tmp.resolve("tree"), out = tmp.resolve("imported"), gc = tmp.resolve("gc.log");
        long t0 = System.nanoTime();
        Synth.generate(tree, o);
        long t1 = System.nanoTime();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx2g", "-Xlog:gc:file=" + gc, "--add-modules", "jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"), "brain2img.cli.Main",
                "data", "import-nsd", "--nsd", tree.toString(), "--subject", "1", "--out", out.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("import.log").toFile()).start();
        int code = p.waitFor();
        long t2 = System.nanoTime();
        String log = Files.readString(tmp.resolve("import.log"));
        assertEquals(0, code, "import under -Xmx2g failed:\n" + log);

        long peak = 0; // MB in use before each collection, the high-water mark
        Matcher m = Pattern.compile("(\\d+)M->(\\d+)M\\((\\d+)M\\)").matcher(Files.readString(gc));
        while (m.find()) peak = Math.max(peak, Long.parseLong(m.group(1)));
        System.out.printf("30 sessions × 750 trials × 15000 voxels: generated in %.0f s, imported in %.0f s, peak heap %d MB (limit 2048 MB)%n",
                (t1 - t0) / 1e9, (t2 - t1) / 1e9, peak);

        Dataset d = Dataset.open(out);
        assertEquals(22500, d.trials().size());
        assertEquals(15000, d.voxels());
        assertEquals(30, d.trials().stream().mapToInt(Trial::session).distinct().count());
        // spot checks against the generator's own values
        Synth.Design design = Synth.Design.of(o);
        SplittableRandom rng = new SplittableRandom(1);
        for (int k = 0; k < 20; k++) {
            int t = rng.nextInt(22500);
            short[] want = design.response(t);
            for (int j = 0; j < 50; j++) {
                int v = rng.nextInt(15000);
                assertEquals(want[v] / NsdImporter.BETA_SCALE, d.responses().getFloat((long) t * 15000 + v), 0f, "trial " + t + " voxel " + v);
            }
        }
        assertTrue(peak < 2048, "peak " + peak);
    }
}
