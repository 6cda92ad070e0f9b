package brain2img.spark;

import brain2img.data.Synth;
import brain2img.io.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code brain2img spark run|render} in local mode (local[N], CPU, no GPU resource) against {@code brain2img run}
 * of the same data, config and seed: byte-identical reconstructions and the same metrics; an injected failure
 * mid-unit leaves no half-written file and a rerun resumes to the same bytes; a retried task writes them too.
 */
class SparkLocalTest {
    static final String FAIL = "brain2img.spark.failUnit";
    /** The first unit of the shuffled null: its task fails after its PNGs, before its .npy. */
    static final String FAIL_UNIT = "shuffled/00000-00016";

    @TempDir
    static Path tmp;
    static Path data, cfg, baseline;

    @BeforeAll
    static void plainRun() throws IOException {
        data = tmp.resolve("synth");
        Synth.generate(data, Synth.Options.of(200, 300, 3).withImageSize(16)); // 20 test images: 2 units of each of 6 kinds
        cfg = tmp.resolve("run.json");
        Json.write(cfg, Map.of("alphas", new double[]{10, 1000, 1e5}, "bootstrap", 200, "permutations", 200));
        baseline = tmp.resolve("plain");
        assertEquals(0, SparkMain.execute("run", "--data", data.toString(), "--out", baseline.toString(), "--config", cfg.toString(), "--device", "cpu"));
    }

    @Test
    void sparkRunEqualsThePlainRun() throws IOException {
        Path run = tmp.resolve("spark");
        assertEquals(0, SparkMain.execute("spark", "run", "--master", "local[2]", "--data", data.toString(), "--out", run.toString(),
                "--config", cfg.toString(), "--device", "cpu"));
        assertSameReconstructions(baseline, run);
        assertEquals(metricsWithoutPaths(baseline), metricsWithoutPaths(run));
        assertEquals(Files.readString(baseline.resolve("per_image.csv")), Files.readString(run.resolve("per_image.csv")));
        List<String> tasks = Files.readAllLines(run.resolve(SparkRender.TASKS_CSV));
        assertEquals(1 + 12, tasks.size(), "one task per unit");
        assertTrue(tasks.stream().skip(1).allMatch(l -> l.split(",", -1)[3].isEmpty()), "local mode holds no GPU address:\n" + tasks);
        // a second run finds every unit present: no tasks, nothing rewritten
        long before = Files.getLastModifiedTime(run.resolve("recon/pixels.npy")).toMillis();
        assertEquals(0, SparkMain.execute("spark", "run", "--master", "local[2]", "--out", run.toString(), "--device", "cpu"));
        assertEquals(before, Files.getLastModifiedTime(run.resolve("recon/pixels.npy")).toMillis());
    }

    @Test
    void aTaskKilledMidUnitLeavesNoHalfFileAndTheRerunResumesToTheSameBytes() throws IOException {
        Path run = tmp.resolve("killed");
        System.setProperty(FAIL, FAIL_UNIT);
        try {
            // local[2]: one attempt per task, so the injected failure fails the job
            assertEquals(1, SparkMain.execute("spark", "render", "--master", "local[2]", "--data", data.toString(), "--out", run.toString(),
                    "--config", cfg.toString(), "--device", "cpu"));
        } finally {
            System.clearProperty(FAIL);
        }
        assertFalse(Files.exists(run.resolve("recon/shuffled.npy")), "nothing gathered after a failed job");
        assertTrue(Files.exists(run.resolve("recon/shuffled/" + firstTestId(run) + ".png")), "the unit failed after its PNGs");
        assertTrue(unitFiles(run).stream().noneMatch(p -> p.endsWith(Path.of(FAIL_UNIT + ".npy"))), "the failed unit is not marked done");
        assertTrue(unitFiles(run).stream().anyMatch(p -> p.endsWith(Path.of("pixels/00000-00016.npy"))), "other units completed");
        assertEquals(List.of(), partFiles(run), "no temporary file left");

        assertEquals(0, SparkMain.execute("spark", "render", "--master", "local[2]", "--out", run.toString(), "--device", "cpu"));
        List<String> tasks = Files.readAllLines(run.resolve(SparkRender.TASKS_CSV));
        assertTrue(tasks.stream().anyMatch(l -> l.startsWith(FAIL_UNIT + ",")), "the rerun renders the failed unit:\n" + tasks);
        assertTrue(tasks.size() - 1 < 12, "the rerun skips the units already present:\n" + tasks);
        assertSameReconstructions(baseline, run);
        assertEquals(List.of(), partFiles(run));
    }

    @Test
    void aRetriedTaskWritesTheSameBytes() throws IOException {
        Path run = tmp.resolve("retried");
        System.setProperty(FAIL, FAIL_UNIT);
        try {
            // local[2,2]: a failed task is retried once; attempt 0 of the unit fails, attempt 1 completes it
            assertEquals(0, SparkMain.execute("spark", "render", "--master", "local[2,2]", "--data", data.toString(), "--out", run.toString(),
                    "--config", cfg.toString(), "--device", "cpu"));
        } finally {
            System.clearProperty(FAIL);
        }
        List<String> tasks = Files.readAllLines(run.resolve(SparkRender.TASKS_CSV));
        assertTrue(tasks.stream().anyMatch(l -> l.startsWith(FAIL_UNIT + ",") && l.split(",")[4].equals("1")), "unit retried:\n" + tasks);
        assertSameReconstructions(baseline, run);
    }

    static void assertSameReconstructions(Path expected, Path actual) throws IOException {
        Map<String, byte[]> a = files(expected.resolve("recon")), b = files(actual.resolve("recon"));
        assertEquals(a.keySet(), b.keySet());
        assertEquals(6 * 21, a.size()); // 6 kinds × (20 PNGs + the .npy)
        a.forEach((name, bytes) -> assertArrayEquals(bytes, b.get(name), name));
    }

    static Map<String, byte[]> files(Path dir) throws IOException {
        Map<String, byte[]> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) m.put(dir.relativize(p).toString(), Files.readAllBytes(p));
        }
        return m;
    }

    static List<Path> unitFiles(Path run) throws IOException {
        try (Stream<Path> s = Files.walk(run.resolve("units"))) {
            return s.filter(Files::isRegularFile).toList();
        }
    }

    static List<Path> partFiles(Path run) throws IOException {
        try (Stream<Path> s = Files.walk(run)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".part")).toList();
        }
    }

    static int firstTestId(Path run) {
        return brain2img.io.Npy.read(run.resolve("features/pixels/test_ids.npy")).toIntArray()[0];
    }

    static JsonNode metricsWithoutPaths(Path run) {
        JsonNode m = Json.read(run.resolve("metrics.json"));
        ((ObjectNode) m.path("settings")).remove("out");
        return m;
    }
}
