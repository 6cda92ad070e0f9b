package brain2img.pipeline;

import brain2img.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

/** What makes a stage resumable: {@code stamps/<stage>.json} records the inputs its outputs were made from. */
record Stamps(Path out) {
    /** True when the stamp records the same key and every output exists. */
    boolean upToDate(String stage, String key, Path... outputs) {
        Path stamp = out.resolve("stamps/" + stage + ".json");
        if (!Files.isRegularFile(stamp)) return false;
        for (Path p : outputs) if (!Files.exists(p)) return false;
        return key.equals(Json.read(stamp).path("key").asText());
    }

    void write(String stage, String key) throws IOException {
        Json.write(out.resolve("stamps/" + stage + ".json"), Map.of("key", key, "finished", Instant.now().toString()));
    }

    /** Forgets every stamp, so every stage recomputes. */
    void clear() throws IOException {
        Path dir = out.resolve("stamps");
        if (!Files.isDirectory(dir)) return;
        try (var s = Files.list(dir)) {
            for (Path p : s.toList()) Files.delete(p);
        }
    }
}
