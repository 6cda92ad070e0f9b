package brain2img.cli;

import brain2img.backend.Backend;
import brain2img.sd.SdBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code brain2img bench sd|ridge}: the performance figures of the issue, on random weights and data. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks on random weights/data: Stable Diffusion steps and images, NSD-size ridge.",
        subcommands = {BenchCommand.Sd.class, BenchCommand.Ridge.class, BenchCommand.Encode.class, BenchCommand.Latency.class, NetsBenchCommand.class, BenchCommand.Eval.class},
        footer = {"", "Example:", "  brain2img bench sd --device cuda --batches 1,2,8"})
public final class BenchCommand {

    @Command(name = "sd", mixinStandardHelpOptions = true,
            description = "U-Net step, guidance step, VAE decode, img2img and images/s of SD v1.4-sized random weights (time, FLOP, FLOP/s).",
            footer = {"", "Examples:", "  brain2img bench sd --device cuda                 # 64×64 latents, 40 steps, batch 32 images/s",
                    "  brain2img bench sd --quick                       # tiny widths, 8×8 latent: seconds on a CPU"})
    static final class Sd implements Callable<Integer> {
        @Option(names = "--batches", split = ",", paramLabel = "B,B,...", description = "U-Net step batches (default: 1,2,8; --quick: 1,2).")
        int[] batches;
        @Option(names = "--latent", paramLabel = "N", description = "Latent side, a multiple of 8 (default: 64 = 512² images; --quick: 8).")
        Integer latent;
        @Option(names = "--steps", paramLabel = "N", description = "DDIM steps of the img2img schedule (default: 40; --quick: 2).")
        Integer steps;
        @Option(names = "--strength", defaultValue = "1.0", description = "img2img strength; floor(steps·strength) guided steps run (default: ${DEFAULT-VALUE}).")
        double strength;
        @Option(names = "--images-batch", paramLabel = "N", description = "Batch of the images/s run, 0 skips it (default: 32; --quick: 2).")
        Integer imagesBatch;
        @Option(names = "--model", paramLabel = "v1|tiny", description = "Model widths (default: v1; --quick: tiny).")
        String model;
        @Option(names = "--reps", paramLabel = "N", description = "Timed calls per line after one warm-up (default: 3; --quick: 1).")
        Integer reps;
        @Option(names = "--quick", description = "Small defaults (tiny widths, 8×8 latent, 2 steps, one rep) that run in seconds on a CPU.")
        boolean quick;
        @Mixin
        DeviceOption device;

        @Override
        public Integer call() {
            String m = model != null ? model : quick ? "tiny" : "v1";
            if (!m.equals("v1") && !m.equals("tiny")) throw new Main.UsageException("--model: expected v1 or tiny, got '" + m + "'");
            SdBench.Options opt;
            try {
                opt = new SdBench.Options(m, batches != null ? batches : quick ? new int[]{1, 2} : new int[]{1, 2, 8},
                        latent != null ? latent : quick ? 8 : 64, steps != null ? steps : quick ? 2 : 40, strength,
                        imagesBatch != null ? imagesBatch : quick ? 2 : 32, reps != null ? reps : quick ? 1 : 3);
            } catch (IllegalArgumentException e) {
                throw new Main.UsageException("bench sd: " + e.getMessage());
            }
            try (Backend be = device.open()) {
                SdBench.run(be, opt, System.out);
            }
            return 0;
        }
    }

    @Command(name = "encode", mixinStandardHelpOptions = true,
            description = "Time one encoding feature space at NSD size on random data: ridge to every voxel with the CV alpha grid, test predictions (seconds, FLOP).",
            footer = {"", "Examples:", "  brain2img bench encode                      # n=8859 ×3 trials, 982 test, 15724 voxels, p=6400, 8 alphas, 5 folds",
                    "  brain2img bench encode --voxels 2000 --p 1000   # a smaller problem"})
    static final class Encode implements Callable<Integer> {
        @Option(names = "--n", defaultValue = "8859", description = "Training images (default: ${DEFAULT-VALUE}).")
        int n;
        @Option(names = "--test", defaultValue = "982", description = "Test images (default: ${DEFAULT-VALUE}).")
        int test;
        @Option(names = "--voxels", defaultValue = "15724", description = "Voxels (default: ${DEFAULT-VALUE}).")
        int voxels;
        @Option(names = "--p", defaultValue = "6400", description = "Features (default: ${DEFAULT-VALUE}).")
        int p;
        @Option(names = "--folds", defaultValue = "5", description = "CV folds (default: ${DEFAULT-VALUE}).")
        int folds;
        @Option(names = "--repeats", defaultValue = "3", description = "Trials per training image, as NSD shows each image up to 3 times (default: ${DEFAULT-VALUE}).")
        int repeats;
        @Option(names = "--alphas", split = ",", paramLabel = "A", description = "Alpha grid (default: encode's, 1e-2..1e5, 8 values).")
        double[] alphas;
        @Mixin
        DeviceOption device;

        @Override
        public Integer call() throws java.io.IOException {
            if (n < folds || folds < 2 || test < 1 || voxels < 1 || p < 1 || repeats < 1) {
                throw new Main.UsageException("bench encode: need n ≥ folds ≥ 2 and positive sizes");
            }
            brain2img.encode.EncodingModel.Options d = brain2img.encode.EncodingModel.Options.defaults();
            brain2img.encode.EncodingModel.Options o = new brain2img.encode.EncodingModel.Options(alphas != null ? alphas : d.alphas(), folds, d.bandRatios(), false);
            try (Backend be = device.open()) {
                brain2img.encode.EncodeBench.run(be, new brain2img.encode.EncodeBench.Size(n, test, voxels, p, folds, repeats), o, 1, System.out);
            }
            return 0;
        }
    }

    /** The same command as {@code ridge bench} (one implementation), under the benchmark group. */
    @Command(name = "ridge", mixinStandardHelpOptions = true,
            description = "Time 'ridge fit' on a random problem (seconds, GFLOP/s); --nsd for the NSD size. Same as 'ridge bench'.",
            footer = {"", "Example (NSD size: n=24980, p=15724, t=59136, 7 alphas, 5 folds):", "  brain2img bench ridge --nsd --device cuda"})
    static final class Ridge extends RidgeCommand.Bench {}

    @Command(name = "latency", mixinStandardHelpOptions = true,
            description = "Replays a run's test volumes through read → preprocess → decode → render → write and prints p50/p95/p99 per stage and end to end (ms).",
            footer = {"", "Examples:", "  brain2img bench latency --run runs/demo/run --volumes 1000",
                    "  brain2img bench latency --run runs/sd --renderer xzc --steps 10 --device cuda"})
    static final class Latency implements Callable<Integer> {
        @Option(names = "--run", required = true, paramLabel = "RUN", description = "A fitted run folder.")
        java.nio.file.Path run;
        @Option(names = "--renderer", paramLabel = "pixels|xz|xzc", description = "Renderer (default: the run's).")
        String renderer;
        @Option(names = "--steps", defaultValue = "0", paramLabel = "N", description = "X_zc: DDIM steps (default: the run's sd_steps).")
        int steps;
        @Option(names = "--volumes", defaultValue = "500", paramLabel = "N", description = "Timed volumes (default: ${DEFAULT-VALUE}).")
        int volumes;
        @Option(names = "--warmup", defaultValue = "20", paramLabel = "N", description = "Untimed volumes first (default: ${DEFAULT-VALUE}).")
        int warmup;
        @Mixin
        DeviceOption device;

        @Override
        public Integer call() throws Exception {
            if (volumes < 1 || warmup < 0) throw new Main.UsageException("bench latency: --volumes must be ≥ 1 and --warmup ≥ 0");
            brain2img.api.Reconstructor.Options opt = brain2img.api.Reconstructor.Options.defaults().withSteps(steps).withDevice(device.device);
            try {
                if (renderer != null) opt = opt.withRenderer(brain2img.api.Reconstructor.Renderer.parse(renderer));
            } catch (IllegalArgumentException e) {
                throw new Main.UsageException(e.getMessage());
            }
            try (brain2img.api.Reconstructor rec = brain2img.api.Reconstructor.open(run, opt)) {
                String label = rec.renderer().cliName() + (rec.renderer() == brain2img.api.Reconstructor.Renderer.XZC
                        ? " (" + (steps > 0 ? steps + " DDIM steps, fewer than the run's" : "the run's DDIM steps") + ")" : "")
                        + ", " + volumes + " volumes after " + warmup + " warm-up, " + Runtime.getRuntime().availableProcessors() + " CPUs";
                brain2img.serve.LatencyBench.run(rec, volumes, warmup, label, System.out);
            }
            return 0;
        }
    }

    @Command(name = "eval", mixinStandardHelpOptions = true,
            description = "Cost of the published network metrics: seconds per picture of each network (full size; random weights unless --nets) and per reconstruction's correlations, projected to a whole evaluation.",
            footer = {"", "Examples:", "  brain2img bench eval                              # NSD: 982 images × 5 samples × 7 sets, 9000 training images",
                    "  brain2img bench eval --nets weights/nets --device cuda"})
    static final class Eval implements Callable<Integer> {
        @Option(names = "--nets", paramLabel = "DIR", description = "Metric networks' weights (default: random full-size weights, written to a temporary folder).")
        java.nio.file.Path nets;
        @Option(names = "--images", defaultValue = "982", description = "Test images of the projection (default: ${DEFAULT-VALUE}).")
        int images;
        @Option(names = "--samples", defaultValue = "5", description = "Samples per image (default: ${DEFAULT-VALUE}).")
        int samples;
        @Option(names = "--sets", defaultValue = "7", description = "Reconstruction kinds + nulls scored (default: ${DEFAULT-VALUE}: one kind and six nulls).")
        int sets;
        @Option(names = "--training", defaultValue = "9000", description = "Training images (features once, then cached; default: ${DEFAULT-VALUE}).")
        int training;
        @Option(names = "--side", defaultValue = "425", description = "Side of the random test pictures (default: ${DEFAULT-VALUE}, NSD's).")
        int side;
        @Option(names = "--batch", defaultValue = "2", description = "Pictures per forward pass (default: ${DEFAULT-VALUE}).")
        int batch;
        @Option(names = "--reps", defaultValue = "1", description = "Timed passes after one warm-up (default: ${DEFAULT-VALUE}).")
        int reps;
        @Mixin
        DeviceOption device;

        @Override
        public Integer call() throws java.io.IOException {
            brain2img.eval.EvalBench.Options opt;
            try {
                opt = new brain2img.eval.EvalBench.Options(nets, images, samples, sets, training, side, batch, reps, 42);
            } catch (IllegalArgumentException e) {
                throw new Main.UsageException("bench eval: " + e.getMessage());
            }
            try (Backend be = device.open()) {
                brain2img.eval.EvalBench.run(be, opt, System.out);
            }
            return 0;
        }
    }
}
