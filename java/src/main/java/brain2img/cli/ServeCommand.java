package brain2img.cli;

import brain2img.api.Reconstructor;
import brain2img.serve.OnlineSettings;
import brain2img.serve.Policy;
import brain2img.serve.Serve;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code brain2img serve}: reconstruct volumes as they arrive (watched folder or replay), optionally over HTTP. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Reconstructs volumes as they arrive from a scanner's real-time export (a watched folder) or a replayed data set,",
                "writing OUT/<index>.png and OUT/<index>.json (volume index, image id, arrival/completion times, latency per stage)."},
        footer = {"", "Examples:",
                "  brain2img serve --run runs/demo/run --replay runs/demo/data --tr 1.6 --speed 10 --out live",
                "  brain2img serve --run runs/demo/run --watch /scanner/export --port 8080 --policy latest --out live",
                "  curl --data-binary @volume.npy http://127.0.0.1:8080/reconstruct -o recon.png"})
public final class ServeCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, paramLabel = "RUN", description = "A fitted run folder (brain2img run/fit).")
    Path run;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = "--watch", paramLabel = "DIR", description = "Folder where each new file is one volume (.npy of the data set's voxels, or .nii/.nii.gz in its space).")
        Path watch;
        @Option(names = "--replay", paramLabel = "DATASET", description = "Replay this data set's test volumes (one per test image, trials.csv order) as a scanner would.")
        Path replay;
    }

    @Option(names = "--tr", defaultValue = "1.6", paramLabel = "S", description = "Replay: seconds between volumes (default: ${DEFAULT-VALUE}).")
    double tr;
    @Option(names = "--speed", defaultValue = "1", paramLabel = "X", description = "Replay: speed-up factor (default: ${DEFAULT-VALUE}).")
    double speed;
    @Option(names = "--stop-after", defaultValue = "0", paramLabel = "N", description = "Watch: stop after N files (default: run until stopped).")
    int stopAfter;
    @Option(names = "--port", paramLabel = "P", description = "Also answer POST /reconstruct (an .npy body → PNG) on this port (0: any free port).")
    Integer port;
    @Option(names = "--bind", defaultValue = "127.0.0.1", paramLabel = "ADDR", description = "HTTP address (default: ${DEFAULT-VALUE}; any other is warned about).")
    String bind;
    @Option(names = "--policy", defaultValue = "latest", paramLabel = "latest|all", description = "When rendering falls behind: keep the newest volume and drop stale ones, or queue all (default: ${DEFAULT-VALUE}).")
    String policy;
    @Option(names = "--renderer", paramLabel = "pixels|xz|xzc", description = "Pixel decoder, X_z (VAE decode) or X_zc (img2img) (default: the run's: pixels, or xzc for a z,c run).")
    String renderer;
    @Option(names = "--steps", defaultValue = "0", paramLabel = "N", description = "X_zc: DDIM steps (default: the run's sd_steps).")
    int steps;
    @Option(names = "--zscore-baseline", defaultValue = "0", paramLabel = "N", description = "Online z-scoring per voxel: the first N volumes are the baseline, then running statistics (default: off).")
    int baseline;
    @Option(names = "--window", defaultValue = "1", paramLabel = "K", description = "Average the last K (preprocessed) volumes (default: 1 = off).")
    int window;
    @Option(names = "--delay", defaultValue = "0", paramLabel = "K", description = "Haemodynamic delay: volume v reconstructs the event of volume v−K (default: 0).")
    int delay;
    @Option(names = "--out", required = true, paramLabel = "OUTDIR", description = "Output folder.")
    Path out;
    @picocli.CommandLine.Mixin
    DeviceOption device;

    @Override
    public Integer call() throws Exception {
        Policy p;
        OnlineSettings online;
        InetAddress addr;
        Reconstructor.Options opt;
        try {
            p = Policy.parse(policy);
            online = new OnlineSettings(baseline, window, delay);
            opt = Reconstructor.Options.defaults().withSteps(steps).withDevice(device.device);
            if (renderer != null) opt = opt.withRenderer(Reconstructor.Renderer.parse(renderer));
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
        try {
            addr = InetAddress.getByName(bind);
        } catch (UnknownHostException e) {
            throw new Main.UsageException("--bind: unknown address '" + bind + "'");
        }
        Serve.Options so = new Serve.Options(source.watch, source.replay, tr, speed, stopAfter, port, addr, p, online, out);
        try (Reconstructor rec = Reconstructor.open(run, opt)) {
            rec.warmUp();
            Serve serve = new Serve();
            Thread hook = new Thread(() -> { // Ctrl-C: stop taking volumes, let the ones in hand be written
                serve.stop();
                try {
                    serve.awaitFinished(10_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            Runtime.getRuntime().addShutdownHook(hook);
            serve.run(rec, so, System.err::println);
            Runtime.getRuntime().removeShutdownHook(hook);
        }
        return 0;
    }
}
