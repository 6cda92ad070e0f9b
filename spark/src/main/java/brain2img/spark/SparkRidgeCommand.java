package brain2img.spark;

import brain2img.backend.Backend;
import brain2img.backend.Backends;
import brain2img.cli.DeviceOption;
import brain2img.cli.RidgeCommand;
import brain2img.io.Npy;
import brain2img.ridge.DenseLinAlg;
import brain2img.ridge.RidgeBlocks;
import brain2img.ridge.RidgeModel;
import brain2img.tensor.Tensor;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code brain2img spark ridge}: {@code ridge fit} with one Spark task per block of targets. The driver computes
 * the per-fold eigendecompositions once and writes them to a work folder on the shared file system (tasks read
 * them from there, no broadcast variables); score tasks return each block's cross-validation scores, the driver
 * chooses the alphas and writes them to the work folder, refit tasks write each block's coefficients, and the
 * driver assembles the model file {@code ridge fit} writes.
 */
@Command(name = "ridge", mixinStandardHelpOptions = true,
        description = "ridge fit with one Spark task per block of targets (factorisations computed once, shared through files).",
        footer = {"", "Example:", "  brain2img spark ridge --master spark://head:7077 --x X.npy --y Y.npy --alphas 1e2,1e3,1e4,1e5 --folds 5 \\",
                "      --block 4096 --out model.safetensors"})
public final class SparkRidgeCommand implements Callable<Integer> {
    @Mixin
    RidgeCommand.FitOptions fit;
    @Mixin
    DeviceOption device;
    @Mixin
    SparkCommand.ClusterOptions cluster;
    @Option(names = "--block", defaultValue = "4096", paramLabel = "W", description = "Targets per task (default: ${DEFAULT-VALUE}).")
    int block;
    @Option(names = "--work", paramLabel = "DIR", description = "Shared folder for the factorisations and blocks (default: OUT.parts next to --out).")
    Path work;
    @Option(names = "--out", required = true, paramLabel = "model.safetensors", description = "Where to write the model.")
    Path out;

    @Override
    public Integer call() throws IOException {
        if (block < 1) throw new brain2img.cli.Main.UsageException("--block must be ≥ 1, got " + block);
        RidgeCommand.FitOptions.Inputs in = fit.load();
        Path dir = (work != null ? work : out.resolveSibling(out.getFileName() + ".parts")).toAbsolutePath();
        int t = in.y().dimInt(1);
        long t0 = System.nanoTime();
        RidgeBlocks.Prepared pr;
        DenseLinAlg la;
        try (Backend be = Backends.create(device.name(), System.err)) {
            la = DenseLinAlg.forBackend(be);
            System.err.println("spark ridge: " + in.x().shapeString() + " → " + in.y().shapeString() + ", " + in.options() + ", linalg " + la.describe());
            pr = RidgeBlocks.prepare(la, in.x(), t, in.options(), dir, s -> System.err.println("spark ridge: " + s));
        }
        List<int[]> blocks = RidgeBlocks.blocks(t, block);
        String y = fit.yFile().toAbsolutePath().toString(), dev = device.name() == null ? "auto" : device.name();
        double[][] score = new double[in.options().alphas().length][t];
        try (JavaSparkContext sc = cluster.open("brain2img ridge " + out)) {
            for (BlockScores s : sc.parallelize(blocks, blocks.size()).map(new ScoreTask(pr, y, dev)).collect()) {
                for (int a = 0; a < score.length; a++) System.arraycopy(s.score()[a], 0, score[a], s.c0(), s.score()[a].length);
            }
            double[] chosen = RidgeBlocks.choose(in.options(), score);
            Npy.write(dir.resolve(CHOSEN), Tensor.of(chosen, t));
            sc.parallelize(blocks, blocks.size()).map(new RefitTask(pr, y, dev)).collect();
            RidgeModel m = RidgeBlocks.assemble(pr, la, blocks, chosen, score);
            fit.recordFiles(m);
            m.save(out);
        }
        System.out.printf(Locale.ROOT, "wrote %s: %d targets in %d blocks of ≤ %d, %.1f s%n", out, t, blocks.size(), block, (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    static final String CHOSEN = "chosen_alpha.npy";

    /** One block's mean held-out R² per alpha (A, c1−c0), targets from c0. */
    record BlockScores(int c0, double[][] score) implements Serializable {}

    /** Y (n, t) as the tasks read it: memory-mapped from the shared file; a 1-D Y is one target. */
    static Tensor targets(String file) {
        Tensor y = Npy.map(Path.of(file));
        return y.rank() == 1 ? y.reshape(y.dim(0), 1) : y;
    }

    /** The linear algebra of a task's backend: CUDA on its GPU address, else the CPU. */
    static Backend backend(String device) {
        return ExecutorStages.open(device, RenderTask.gpuAddress(TaskContext.get()));
    }

    record ScoreTask(RidgeBlocks.Prepared pr, String y, String device) implements Function<int[], BlockScores> {
        @Override
        public BlockScores call(int[] b) {
            try (Backend be = backend(device)) {
                return new BlockScores(b[0], RidgeBlocks.scores(pr, DenseLinAlg.forBackend(be), targets(y), b[0], b[1]));
            }
        }
    }

    record RefitTask(RidgeBlocks.Prepared pr, String y, String device) implements Function<int[], int[]> {
        @Override
        public int[] call(int[] b) throws IOException {
            double[] chosen = Npy.read(pr.dir().resolve(CHOSEN)).toDoubleArray();
            try (Backend be = backend(device)) {
                RidgeBlocks.refit(pr, DenseLinAlg.forBackend(be), targets(y), b[0], b[1], chosen);
            }
            return b;
        }
    }
}
