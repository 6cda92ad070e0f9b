package brain2img.serve;

import brain2img.api.Reconstructor;
import brain2img.data.Dataset;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * {@code brain2img serve}: a source of volumes (a watched folder or a replayed data set) → online preprocessing on
 * the acquisition thread → {@link StreamServer} (bounded by the policy, never blocking acquisition) → PNG + JSON
 * per volume; optionally an HTTP endpoint beside it ({@link HttpEndpoint}).
 */
public final class Serve {
    /**
     * @param watch     folder to watch, or null
     * @param replay    data set to replay, or null (exactly one of watch and replay)
     * @param tr        replay TR in seconds; speed: replay speed-up
     * @param stopAfter watch: stop after this many files (0 = until stopped)
     * @param port      HTTP port, or null for none (0 = any free port)
     * @param bind      HTTP address (127.0.0.1 unless asked otherwise)
     */
    public record Options(Path watch, Path replay, double tr, double speed, int stopAfter, Integer port, InetAddress bind,
                          Policy policy, OnlineSettings online, Path out) {}

    /** What a finished stream did. */
    public record Summary(int arrived, int written, int dropped, int skipped, int failed) {}

    private final AtomicBoolean stop = new AtomicBoolean();
    private final CountDownLatch finished = new CountDownLatch(1);
    private volatile HttpEndpoint http;

    /** Asks a running {@link #run} to stop after the volume in hand (watch mode; replay stops by itself). */
    public void stop() {
        stop.set(true);
    }

    /** Waits up to {@code millis} for a running {@link #run} to return (a shutdown hook lets it drain). */
    public void awaitFinished(long millis) throws InterruptedException {
        finished.await(millis, TimeUnit.MILLISECONDS);
    }

    /** The bound HTTP port while running with one, else -1. */
    public int httpPort() {
        HttpEndpoint h = http;
        return h == null ? -1 : h.port();
    }

    public Summary run(Reconstructor rec, Options o, Consumer<String> log) throws IOException, InterruptedException {
        return run(rec::reconstruct, rec, o, log);
    }

    /** As {@link #run(Reconstructor, Options, Consumer)} with another renderer in front (tests slow it down). */
    Summary run(VolumeRenderer renderer, Reconstructor rec, Options o, Consumer<String> log) throws IOException, InterruptedException {
        if ((o.watch() == null) == (o.replay() == null)) throw new IllegalArgumentException("give exactly one of --watch DIR and --replay DATASET");
        Files.createDirectories(o.out());
        Dataset ds = rec.dataset();
        VolumeFiles files = new VolumeFiles(ds);
        OnlineSettings ps = o.online();
        float[][] stats = ps.baseline() > 0 ? rec.trainingVoxelStats() : new float[][]{null, null};
        OnlinePreprocessor pre = new OnlinePreprocessor(ps, stats[0], stats[1]);
        int[] arrived = {0}, held = {0};
        int skipped;
        try (StreamServer stream = new StreamServer(renderer, rec.renderer().cliName(), o.policy(), o.out(), log)) {
            if (o.port() != null) {
                if (!o.bind().isLoopbackAddress()) log.accept("serve: WARNING: HTTP endpoint on " + o.bind().getHostAddress() + " is reachable from other machines; it has no authentication");
                http = new HttpEndpoint(o.bind(), o.port(), files, renderer, rec.voxels(), log);
                log.accept("serve: POST /reconstruct on http://" + o.bind().getHostAddress() + ":" + http.port());
            }
            java.util.function.Consumer<Volume> sink = v -> {
                arrived[0]++;
                pre.accept(v).ifPresentOrElse(stream::submit, () -> held[0]++);
            };
            if (o.replay() != null) {
                Dataset replayed = o.replay().toAbsolutePath().normalize().equals(ds.dir().toAbsolutePath().normalize()) ? ds : Dataset.open(o.replay());
                if (replayed.voxels() != ds.voxels()) {
                    throw new IllegalArgumentException(o.replay() + ": " + replayed.voxels() + " voxels, the run's data set " + ds.dir() + " has " + ds.voxels());
                }
                ReplaySource src = new ReplaySource(replayed, o.tr(), o.speed());
                log.accept(String.format(Locale.ROOT, "serve: replaying %d test volumes of %s, TR %.3g s at %.3g× speed, policy %s",
                        src.volumes(), replayed.name(), o.tr(), o.speed(), o.policy().name().toLowerCase(Locale.ROOT)));
                src.run(sink);
                skipped = 0;
            } else {
                log.accept("serve: watching " + o.watch() + (o.stopAfter() > 0 ? " for " + o.stopAfter() + " volumes" : " (stop with Ctrl-C)"));
                skipped = new WatchSource(o.watch(), files, log).run(sink, o.stopAfter(), stop::get);
            }
            stream.finish();
            Summary s = new Summary(arrived[0], stream.written().size(), stream.dropped(), skipped, stream.failed());
            log.accept(String.format(Locale.ROOT, "serve: %d volumes arrived, %d written to %s, %d dropped (policy %s), %d skipped as unreadable, %d failed, %d held back by online preprocessing",
                    s.arrived(), s.written(), o.out(), s.dropped(), o.policy().name().toLowerCase(Locale.ROOT), s.skipped(), s.failed(), held[0]));
            return s;
        } finally {
            HttpEndpoint h = http;
            http = null;
            if (h != null) h.close();
            finished.countDown();
        }
    }
}
