package brain2img.serve;

import brain2img.api.Reconstructor;
import brain2img.io.AtomicFiles;
import brain2img.io.Json;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The rendering side of a stream: acquisition calls {@link #submit}, which never blocks; one worker thread takes
 * volumes from a queue and writes {@code OUT/<index>.png} then {@code OUT/<index>.json}, each atomically (a reader
 * that sees the JSON finds the PNG complete).
 *
 * <p>Under {@link Policy#LATEST} at most one volume waits: a newer arrival replaces it and the replaced one is
 * counted as dropped and logged. Under {@link Policy#ALL} every volume waits its turn. A volume whose
 * reconstruction fails is logged with its source and skipped; the stream goes on.
 */
final class StreamServer implements AutoCloseable {
    /** The per-volume latencies of one written output, in milliseconds, stage → ms (end_to_end included). */
    record Written(int index, Map<String, Double> latencyMs) {}

    private final VolumeRenderer renderer;
    private final String rendererName;
    private final Policy policy;
    private final Path out;
    private final Consumer<String> log;
    private final LinkedBlockingDeque<Volume> queue = new LinkedBlockingDeque<>();
    private final Thread worker;
    private final List<Written> written = Collections.synchronizedList(new ArrayList<>());
    private volatile boolean closing;
    private int dropped, failed;

    StreamServer(VolumeRenderer renderer, String rendererName, Policy policy, Path out, Consumer<String> log) {
        this.renderer = renderer;
        this.rendererName = rendererName;
        this.policy = policy;
        this.out = out;
        this.log = log;
        this.worker = Thread.ofPlatform().name("brain2img-render").start(this::work);
    }

    /** Hands a volume to rendering; returns at once. */
    void submit(Volume v) {
        synchronized (queue) {
            if (closing) throw new IllegalStateException("stream closed");
            if (policy == Policy.LATEST) {
                Volume stale;
                while ((stale = queue.pollFirst()) != null) {
                    dropped++;
                    log.accept("serve: dropped volume " + stale.index() + " (" + stale.source() + "): rendering is behind, policy latest");
                }
            }
            queue.addLast(v);
        }
    }

    /** Waits until every submitted volume is written or dropped, then stops the worker. */
    void finish() throws InterruptedException {
        synchronized (queue) {
            closing = true;
        }
        worker.join();
    }

    synchronized int failed() { return failed; }

    int dropped() {
        synchronized (queue) {
            return dropped;
        }
    }

    /** The outputs written so far, in the order they were written. */
    List<Written> written() {
        synchronized (written) {
            return List.copyOf(written);
        }
    }

    private void work() {
        try {
            while (true) {
                Volume v = queue.pollFirst(20, TimeUnit.MILLISECONDS);
                if (v == null) {
                    synchronized (queue) {
                        if (closing && queue.isEmpty()) return;
                    }
                    continue;
                }
                render(v);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void render(Volume v) {
        long start = System.nanoTime();
        try {
            Reconstructor.Result r = renderer.reconstruct(v.voxels());
            long w0 = System.nanoTime();
            AtomicFiles.write(out.resolve(v.index() + ".png"), r.png());
            Map<String, Double> ms = new LinkedHashMap<>();
            ms.put("read", v.readMs());
            ms.put("queue", (start - v.arrivalNanos()) / 1e6);
            ms.put("preprocess", v.preprocessMs() + r.latencyMs().getOrDefault("preprocess", 0.0));
            ms.put("decode", r.latencyMs().getOrDefault("decode", 0.0));
            ms.put("render", r.latencyMs().getOrDefault("render", 0.0));
            long done = System.nanoTime();
            ms.put("write", (done - w0) / 1e6);
            ms.put("end_to_end", (done - v.arrivalNanos()) / 1e6 + v.readMs());
            Json.write(out.resolve(v.index() + ".json"), record(v, ms));
            written.add(new Written(v.index(), ms));
        } catch (RuntimeException | IOException e) {
            synchronized (this) {
                failed++;
            }
            log.accept("serve: volume " + v.index() + " (" + v.source() + ") failed: " + e.getMessage());
        }
    }

    private Map<String, Object> record(Volume v, Map<String, Double> ms) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("volume_index", v.index());
        if (v.event() != v.index()) j.put("event_index", v.event());
        if (v.imageId() != null) j.put("image_id", v.imageId());
        j.put("source", v.source());
        j.put("renderer", rendererName);
        long now = System.currentTimeMillis();
        j.put("arrival", Instant.ofEpochMilli(v.arrivalEpochMs()).toString());
        j.put("arrival_epoch_ms", v.arrivalEpochMs());
        j.put("completion", Instant.ofEpochMilli(now).toString());
        j.put("completion_epoch_ms", now);
        j.put("latency_ms", ms);
        j.put("dropped_so_far", dropped());
        return j;
    }

    @Override
    public void close() throws InterruptedException {
        finish();
    }
}
