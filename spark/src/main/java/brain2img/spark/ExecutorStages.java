package brain2img.spark;

import brain2img.backend.Backend;
import brain2img.backend.Backends;
import brain2img.pipeline.RunConfig;
import brain2img.pipeline.Stages;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Per executor JVM: the pipelines (with their backends and, once loaded, their model weights) that this
 * executor's tasks reuse. One is leased per running task, keyed by run folder, run config, device and GPU
 * address, so two tasks never share one, and a finished task hands its pipeline (weights loaded) to the next.
 */
final class ExecutorStages {
    private static final Map<String, Queue<Entry>> IDLE = new ConcurrentHashMap<>();

    private ExecutorStages() {}

    /** A pipeline and the backend it computes on. */
    record Entry(String key, Backend backend, Stages stages) {}

    /**
     * A pipeline for the run folder {@code out} on {@code device} (cpu|cuda|auto); {@code gpu} the task's
     * GPU address (a CUDA ordinal) or null for none, which means the CPU.
     */
    static Entry lease(Path out, String device, String gpu) throws IOException {
        String runJson = Files.readString(out.resolve("run.json"));
        String key = out.toAbsolutePath() + "|" + device + "|" + gpu + "|" + runJson;
        Entry e = IDLE.computeIfAbsent(key, k -> new ConcurrentLinkedQueue<>()).poll();
        if (e != null) return e;
        RunConfig cfg = RunConfig.read(out.resolve("run.json"), RunConfig.defaults(null, out)).withOut(out);
        Backend be = open(device, gpu);
        return new Entry(key, be, Stages.create(cfg, be, s -> {}));
    }

    /** Returns a leased pipeline for the next task on this executor. */
    static void release(Entry e) {
        IDLE.get(e.key()).add(e);
    }

    /** A task that failed gives its pipeline up: its state is not trusted. */
    static void discard(Entry e) {
        e.stages().close();
        e.backend().close();
    }

    /** The GPU address binds CUDA to that device; without one the task runs on the CPU (e.g. local mode). */
    static Backend open(String device, String gpu) {
        if (gpu == null) return Backends.create("cpu", null);
        if ("cpu".equals(device)) return Backends.create("cpu", null);
        try {
            return Backends.cuda(Integer.parseInt(gpu.strip()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("GPU address '" + gpu + "' is not a CUDA ordinal (the discovery script must print ordinals)");
        }
    }
}
