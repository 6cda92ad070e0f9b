package brain2img.cli;

import brain2img.backend.Backend;
import brain2img.pipeline.Pipeline;
import brain2img.pipeline.Planner;
import brain2img.pipeline.RunConfig;
import brain2img.pipeline.ShenPipeline;
import brain2img.pipeline.Stages;
import brain2img.vision.VisionNets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** The pipeline stages as commands; each runs the stages before it when they are not up to date. */
public final class PipelineCommands {
    private PipelineCommands() {}

    /** Options shared by every stage: where the data and the run are, and what the run.json may set. */
    public static final class RunOptions {
        @Option(names = "--data", paramLabel = "DIR", description = "Data set folder (brain2img format: dataset.json, responses, trials, stimuli).")
        Path data;
        @Option(names = "--out", paramLabel = "RUN", required = true, description = "Run folder: every stage's outputs, metrics.json, report.html.")
        Path out;
        @Option(names = "--targets", paramLabel = "pixels|z,c", description = "What the decoder predicts (default pixels; z,c needs Stable Diffusion weights).")
        String targets;
        @Option(names = "--weights", paramLabel = "W", description = "Stable Diffusion weights (for --targets z,c); VGG19 weights (for --method shen).")
        Path weights;
        @Option(names = "--method", paramLabel = "takagi|shen", description = "takagi (default): ridge to --targets; shen: Shen et al. 2019, VGG19 features decoded, then images optimised to match them (X_dir; X_dir_dgn with --generator), into RUN/shen/.")
        String method;
        @Option(names = "--arch", paramLabel = "vgg19|vgg19-caffe", description = "shen: naming and input convention of --weights (default vgg19-caffe).")
        String arch;
        @Option(names = "--layers", split = ",", paramLabel = "L1,L2", description = "shen: layers decoded and matched (default: Shen et al.'s 19 conv/fc layers).")
        List<String> layers;
        @Option(names = "--decoder", paramLabel = "top-voxels|ridgecv", description = "shen: feature decoder (default top-voxels, 500 voxels per unit: run.json dir_voxels).")
        String decoder;
        @Option(names = "--generator", paramLabel = "G", description = "shen: deepsim fc7 generator weights; adds X_dir_dgn (needs vgg19-caffe and fc7 among the layers).")
        Path generator;
        @Option(names = "--optimizer", paramLabel = "gd|lbfgs", description = "shen: pixel optimiser of X_dir and every null (default gd).")
        String optimizer;
        @Option(names = "--iterations", paramLabel = "N", description = "shen: optimiser iterations per image (default 200).")
        Integer iterations;
        @Option(names = "--dir-size", paramLabel = "S", description = "shen: side of the network input for features and reconstructions (default: the network's, 224).")
        Integer dirSize;
        @Option(names = "--samples", paramLabel = "K", description = "Samples per image (seeds seed..seed+K-1; pixel targets are deterministic: 1).")
        Integer samples;
        @Option(names = "--seed", description = "Seed of every random choice (default 42).")
        Long seed;
        @Option(names = "--config", paramLabel = "run.json", description = "Run settings as JSON (keys: data, targets, weights, samples, seed, pixel_size, roi, alphas, folds, bootstrap, permutations, pixel_space, nets; shen: method, arch, layers, decoder, generator, optimizer, iterations, dir_size, dir_voxels); options given here win.")
        Path config;
        @Option(names = "--pixel-size", paramLabel = "S", description = "Side of the pixel targets (default: the stimulus side, at most 32).")
        Integer pixelSize;
        @Option(names = "--roi", description = "ROI the decoder reads (default: early where the data set has it, else all voxels).")
        String roi;
        @Option(names = "--nets", paramLabel = "DIR", description = "Metric networks' weights (alexnet.*, inception_v3.*, clip-vit-large-patch14/, efficientnet_b1.*, swav_resnet50.*; safetensors or .pth): adds the published table (AlexNet(2/5), Incep, CLIP, EffNet-B, SwAV, Takagi's variants); each network missing is noted once and its metrics left out.")
        Path nets;
        @Option(names = "--force", description = "Recompute every stage even when up to date.")
        boolean force;

        /** The run folder. */
        public Path out() {
            return out;
        }

        public boolean force() {
            return force;
        }

        /** The method's options given here over {@code m}. */
        private RunConfig.Method method(RunConfig.Method m) {
            if (method != null) m = m.withName(method);
            if (arch != null) m = m.withArch(arch);
            if (layers != null) m = m.withLayers(layers);
            if (decoder != null) m = m.withDecoder(decoder);
            if (generator != null) m = m.withGenerator(generator);
            if (optimizer != null) m = m.withOptimizer(optimizer);
            if (iterations != null) m = m.withIterations(iterations);
            if (dirSize != null) m = m.withSize(dirSize);
            return m;
        }

        /** Defaults, then RUN/run.json of an earlier stage, then --config, then the options given. */
        public RunConfig resolve() {
            try {
                RunConfig c = RunConfig.defaults(null, out);
                Path saved = out.resolve("run.json");
                if (Files.isRegularFile(saved)) c = RunConfig.read(saved, c);
                if (config != null) {
                    if (!Files.isRegularFile(config)) throw new Main.UsageException("--config: no such file: " + config);
                    c = RunConfig.read(config, c);
                }
                if (data != null) c = c.withData(data);
                if (targets != null) c = c.withTargets(targets);
                if (weights != null) c = c.withWeights(weights);
                if (samples != null) c = c.withSamples(samples);
                if (seed != null) c = c.withSeed(seed);
                if (pixelSize != null) c = c.withPixelSize(pixelSize);
                if (roi != null) c = c.withRoi(roi);
                if (nets != null) c = c.withNets(nets);
                c = c.withMethod(method(c.method()));
                c = c.withOut(out);
                if (c.data() == null) throw new Main.UsageException("--data DIR is required (or a run.json in " + out + " from an earlier stage)");
                if (c.method().shen() && c.weights() == null) throw new Main.UsageException("--weights W (the VGG19 weights) is required for --method shen");
                if (c.method().shen() && !Files.isRegularFile(c.weights())) throw new Main.UsageException("--weights: no file " + c.weights());
                if (c.method().generator() != null && !Files.isRegularFile(c.method().generator())) throw new Main.UsageException("--generator: no file " + c.method().generator());
                return c;
            } catch (IllegalArgumentException e) { // a bad value in the options or the config
                throw new Main.UsageException(e.getMessage());
            }
        }
    }

    abstract static class StageCommand implements Callable<Integer> {
        @Mixin
        RunOptions run;
        @Mixin
        DeviceOption device;

        abstract Pipeline.Stage stage();

        /** The shard of the render stage's units this process renders (run and render only). */
        Planner.Shard shard() {
            return Planner.Shard.ALL;
        }

        /** True when every stage through {@link #stage()} ran (false: a shard left units to others). */
        boolean complete;
        /** The config the stages ran with. */
        RunConfig cfg;

        @Override
        public Integer call() throws IOException {
            cfg = run.resolve();
            try (Backend be = device.open();
                 Stages p = Stages.create(cfg, be, System.out::println, (arch, weights, config) -> VisionNets.open(arch, weights, config, be))) {
                if (run.force) p.invalidate();
                p.shard(shard());
                complete = p.through(stage());
            }
            return 0;
        }
    }

    /** --shard i/N: the render stage's units of one Slurm array task. */
    static final class ShardOption {
        @Option(names = "--shard", paramLabel = "i/N", description = "Render only the units u with u mod N = i (e.g. $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT); "
                + "all shards share --out, and the shard that finds every unit present gathers them and goes on.")
        String shard;

        Planner.Shard parse() {
            if (shard == null) return Planner.Shard.ALL;
            try {
                return Planner.Shard.parse(shard);
            } catch (IllegalArgumentException e) {
                throw new Main.UsageException(e.getMessage());
            }
        }
    }

    @Command(name = "features", mixinStandardHelpOptions = true, description = "Compute the training targets of every image (pixels at the target size).",
            footer = {"", "Example:", "  brain2img features --data data/digits --out runs/digits"})
    public static final class Features extends StageCommand {
        Pipeline.Stage stage() { return Pipeline.Stage.FEATURES; }
    }

    @Command(name = "fit", mixinStandardHelpOptions = true, description = "Fit the ridge decoder (and the permuted-fit null) on single training trials.",
            footer = {"", "Example:", "  brain2img fit --data data/digits --out runs/digits"})
    public static final class Fit extends StageCommand {
        Pipeline.Stage stage() { return Pipeline.Stage.FIT; }
    }

    @Command(name = "decode", mixinStandardHelpOptions = true, description = "Predict the targets of the test images (and of every null) from averaged responses.",
            footer = {"", "Example:", "  brain2img decode --out runs/digits"})
    public static final class Decode extends StageCommand {
        Pipeline.Stage stage() { return Pipeline.Stage.DECODE; }
    }

    @Command(name = "render", mixinStandardHelpOptions = true, description = "Turn decoded targets into reconstruction images (npy and PNG).",
            footer = {"", "Examples:", "  brain2img render --out runs/digits",
                    "  brain2img render --out runs/digits --shard 0/3   # one of three Slurm array tasks"})
    public static final class Render extends StageCommand {
        @Mixin
        ShardOption shard;

        Pipeline.Stage stage() { return Pipeline.Stage.RENDER; }

        @Override
        Planner.Shard shard() { return shard.parse(); }
    }

    @Command(name = "evaluate", mixinStandardHelpOptions = true, description = "Score reconstructions and nulls: metrics.json (CIs, p-values) and per_image.csv.",
            footer = {"", "Example:", "  brain2img evaluate --out runs/digits"})
    public static final class Evaluate extends StageCommand {
        Pipeline.Stage stage() { return Pipeline.Stage.EVALUATE; }
    }

    @Command(name = "report", mixinStandardHelpOptions = true, description = "Write the self-contained report.html of a run.",
            footer = {"", "Example:", "  brain2img report --out runs/digits"})
    public static final class Report extends StageCommand {
        Pipeline.Stage stage() { return Pipeline.Stage.REPORT; }
    }

    @Command(name = "run", mixinStandardHelpOptions = true, description = "Run every stage: features, fit, decode, render, evaluate, report.",
            footer = {"", "Examples:", "  brain2img run --data data/digits --out runs/digits --seed 42",
                    "  brain2img run --data data/digits --out runs/digits --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT",
                    "  brain2img run --method shen --data data/digits --out runs/digits --arch vgg19-caffe --weights vgg19.safetensors --optimizer lbfgs"})
    public static final class Run extends StageCommand {
        @Mixin
        ShardOption shard;

        Pipeline.Stage stage() { return Pipeline.Stage.REPORT; }

        @Override
        Planner.Shard shard() { return shard.parse(); }

        @Override
        public Integer call() throws IOException {
            int rc = super.call();
            Path results = cfg.method().shen() ? ShenPipeline.folder(cfg) : run.out;
            if (complete) System.out.println("wrote " + results.resolve("metrics.json") + " and " + results.resolve("report.html"));
            return rc;
        }
    }
}
