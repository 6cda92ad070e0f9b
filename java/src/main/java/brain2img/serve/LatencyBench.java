package brain2img.serve;

import brain2img.api.Reconstructor;
import brain2img.data.Averaged;
import brain2img.data.Split;
import brain2img.io.AtomicFiles;
import brain2img.io.Json;
import brain2img.io.Npy;
import brain2img.tensor.Tensor;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code brain2img bench latency}: the run's test volumes written as .npy files, then read back and reconstructed
 * one after another as a stream would (read → preprocess → decode → render → write PNG + JSON, atomically, into a
 * temporary folder), after warm-up volumes; prints p50/p95/p99 per stage and end to end (nearest-rank percentiles).
 */
public final class LatencyBench {
    static final List<String> STAGES = List.of("read", "preprocess", "decode", "render", "write", "end_to_end");

    private LatencyBench() {}

    /** Per-stage samples in ms, stage → values in volume order. */
    public static Map<String, double[]> measure(Reconstructor rec, int volumes, int warmup, Path tmp) throws IOException {
        Averaged test = rec.dataset().average(Split.TEST);
        int n = test.imageIds().length;
        if (n == 0) throw new IllegalArgumentException(rec.dataset().dir() + ": no test volumes to replay");
        Path in = Files.createDirectories(tmp.resolve("in")), out = Files.createDirectories(tmp.resolve("out"));
        for (int i = 0; i < n; i++) Npy.write(in.resolve(i + ".npy"), test.responses().get(i).copy());
        VolumeFiles files = new VolumeFiles(rec.dataset());
        Map<String, double[]> ms = new LinkedHashMap<>();
        for (String s : STAGES) ms.put(s, new double[volumes]);
        for (int k = -warmup; k < volumes; k++) {
            int i = Math.floorMod(k, n);
            long t0 = System.nanoTime();
            float[] v = files.read(in.resolve(i + ".npy"));
            long t1 = System.nanoTime();
            Reconstructor.Result r = rec.reconstruct(v);
            long t2 = System.nanoTime();
            AtomicFiles.write(out.resolve(i + ".png"), r.png());
            Json.write(out.resolve(i + ".json"), Map.of("volume_index", i, "latency_ms", r.latencyMs()));
            long t3 = System.nanoTime();
            if (k < 0) continue;
            ms.get("read")[k] = (t1 - t0) / 1e6;
            for (String s : List.of("preprocess", "decode", "render")) ms.get(s)[k] = r.latencyMs().get(s);
            ms.get("write")[k] = (t3 - t2) / 1e6;
            ms.get("end_to_end")[k] = (t3 - t0) / 1e6;
        }
        return ms;
    }

    /** The nearest-rank q-th percentile (q in (0,100]). */
    static double percentile(double[] v, double q) {
        double[] s = v.clone();
        Arrays.sort(s);
        int rank = (int) Math.ceil(q / 100 * s.length);
        return s[Math.max(0, rank - 1)];
    }

    public static void print(Map<String, double[]> ms, String label, PrintStream out) {
        out.println("latency (ms) — " + label);
        out.printf(Locale.ROOT, "%-12s %9s %9s %9s %9s%n", "stage", "p50", "p95", "p99", "max");
        for (Map.Entry<String, double[]> e : ms.entrySet()) {
            double[] v = e.getValue();
            out.printf(Locale.ROOT, "%-12s %9.3f %9.3f %9.3f %9.3f%n", e.getKey(), percentile(v, 50), percentile(v, 95), percentile(v, 99),
                    Arrays.stream(v).max().orElse(0));
        }
    }

    /** Removes the temporary folder the bench wrote into. */
    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    /** Measures and prints, cleaning up the temporary folder. */
    public static void run(Reconstructor rec, int volumes, int warmup, String label, PrintStream out) throws IOException {
        Path tmp = Files.createTempDirectory("brain2img-latency");
        try {
            print(measure(rec, volumes, warmup, tmp), label, out);
        } finally {
            deleteTree(tmp);
        }
    }
}
