package brain2img.pipeline;

import brain2img.cli.Main;
import brain2img.data.Synth;
import brain2img.io.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The planner's units and --shard i/N: three shards into one folder equal one unsharded run, byte for byte. */
class ShardedRunTest {
    @Test
    void planCoversEveryImageOfEveryKindOnceAndShardsPartitionIt() {
        List<Planner.Unit> units = Planner.plan("subj01", List.of("a", "b"), new int[]{1, 5}, 37, 16);
        assertEquals(6, units.size()); // 16 + 16 + 5 images, twice
        for (String kind : List.of("a", "b")) {
            int[] seen = new int[37];
            units.stream().filter(u -> u.kind().equals(kind)).forEach(u -> { for (int i = u.first(); i < u.end(); i++) seen[i]++; });
            for (int c : seen) assertEquals(1, c, kind);
        }
        assertEquals(5, units.get(5).samples());
        assertEquals("b/00032-00037", units.get(5).id());
        Set<Integer> owned = new HashSet<>();
        for (int s = 0; s < 4; s++) {
            Planner.Shard shard = Planner.Shard.parse(s + "/4");
            units.stream().filter(shard::owns).forEach(u -> assertTrue(owned.add(u.index()), "unit " + u.index() + " owned twice"));
        }
        assertEquals(units.size(), owned.size());
        var range = assertThrows(IllegalArgumentException.class, () -> Planner.Shard.parse("3/3"));
        assertEquals("shard must be i/N with 0 ≤ i < N, got 3/3", range.getMessage());
        var syntax = assertThrows(IllegalArgumentException.class, () -> Planner.Shard.parse("x"));
        assertEquals("--shard: expected i/N (e.g. 0/3), got 'x'", syntax.getMessage());
    }

    @Test
    void threeShardsTogetherEqualOneUnshardedRun(@TempDir Path tmp) throws IOException {
        Path data = tmp.resolve("synth");
        Synth.generate(data, Synth.Options.of(200, 300, 3).withImageSize(16)); // 20 test images: 2 units of each of 6 kinds
        Path cfg = tmp.resolve("run.json");
        Json.write(cfg, Map.of("alphas", new double[]{10, 1000, 1e5}, "bootstrap", 200, "permutations", 200));
        Path whole = tmp.resolve("whole"), sharded = tmp.resolve("sharded");
        assertEquals(0, Main.execute("run", "--data", data.toString(), "--out", whole.toString(), "--config", cfg.toString(), "--device", "cpu"));

        assertEquals(0, Main.execute("run", "--data", data.toString(), "--out", sharded.toString(), "--config", cfg.toString(), "--device", "cpu", "--shard", "1/3"));
        assertFalse(Files.exists(sharded.resolve("metrics.json")), "shard 1 alone must not evaluate");
        assertFalse(Files.exists(sharded.resolve("recon/pixels.npy")), "shard 1 alone must not gather");
        assertEquals(0, Main.execute("run", "--out", sharded.toString(), "--device", "cpu", "--shard", "0/3"));
        assertFalse(Files.exists(sharded.resolve("metrics.json")));
        assertEquals(0, Main.execute("run", "--out", sharded.toString(), "--device", "cpu", "--shard", "2/3"));
        assertTrue(Files.exists(sharded.resolve("metrics.json")), "the last shard gathers and evaluates");

        Map<String, byte[]> a = reconstructions(whole), b = reconstructions(sharded);
        assertEquals(a.keySet(), b.keySet());
        assertEquals(6 * 21, a.size()); // 6 kinds × (20 PNGs + the .npy)
        a.forEach((name, bytes) -> assertArrayEquals(bytes, b.get(name), name));
        assertEquals(metricsWithoutPaths(whole), metricsWithoutPaths(sharded));
        assertEquals(Files.readString(whole.resolve("per_image.csv")), Files.readString(sharded.resolve("per_image.csv")));
    }

    /** Every file under RUN/recon, by relative name. */
    static Map<String, byte[]> reconstructions(Path run) throws IOException {
        Map<String, byte[]> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(run.resolve("recon"))) {
            for (Path p : s.filter(Files::isRegularFile).toList()) m.put(run.relativize(p).toString(), Files.readAllBytes(p));
        }
        return m;
    }

    /** metrics.json without the settings that name the run folder. */
    static JsonNode metricsWithoutPaths(Path run) {
        JsonNode m = Json.read(run.resolve("metrics.json"));
        ((ObjectNode) m.path("settings")).remove("out");
        return m;
    }
}
