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
        subcommands = {BenchCommand.Sd.class, BenchCommand.Ridge.class, BenchCommand.Eval.class},
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

    /** The same command as {@code ridge bench} (one implementation), under the benchmark group. */
    @Command(name = "ridge", mixinStandardHelpOptions = true,
            description = "Time 'ridge fit' on a random problem (seconds, GFLOP/s); --nsd for the NSD size. Same as 'ridge bench'.",
            footer = {"", "Example (NSD size: n=24980, p=15724, t=59136, 7 alphas, 5 folds):", "  brain2img bench ridge --nsd --device cuda"})
    static final class Ridge extends RidgeCommand.Bench {}
}
