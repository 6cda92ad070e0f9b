package brain2img.encode;

import brain2img.backend.Backend;
import brain2img.ridge.DenseLinAlg;
import brain2img.ridge.Folds;
import brain2img.io.Npy;
import brain2img.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import java.io.PrintStream;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The encoding model's cost at a given size on random data: one feature space, every voxel, the CV alpha grid,
 * test predictions ({@link EncodingModel#fit}). NSD size: 8,859 training images shown 3 times each (26,577 trials),
 * 982 test images, 15,724 voxels, 6,400 features (z at 320 px). FLOPs are counted analytically from the work the
 * ridge engine does on the images (the trials are only summed per image).
 */
public final class EncodeBench {
    private EncodeBench() {}

    /** train images each shown {@code repeats} times (trials in rounds: every image once, then again). */
    public record Size(int train, int test, int voxels, int features, int folds, int repeats) {}

    /**
     * Features go to memory-mapped .npy files in a temporary folder (removed afterwards), as {@code encode} keeps
     * them, so the peak memory is the model's, not a heap copy of the features.
     */
    public static void run(Backend be, Size s, EncodingModel.Options o, long seed, PrintStream out) throws IOException {
        Path dir = Files.createTempDirectory("brain2img-encode-bench");
        try {
            run(be, s, o, seed, out, dir);
        } finally {
            for (String f : new String[]{"train.npy", "test.npy"}) Files.deleteIfExists(dir.resolve(f));
            Files.deleteIfExists(dir);
        }
    }

    private static void run(Backend be, Size s, EncodingModel.Options o, long seed, PrintStream out, Path dir) throws IOException {
        SplittableRandom rng = new SplittableRandom(seed);
        int trials = Math.multiplyExact(s.train(), s.repeats());
        out.printf(Locale.ROOT, "encode bench: %d training images × %d = %d trials, %d test images, %d voxels, %d features, %d alphas, %d folds, f%d%n",
                s.train(), s.repeats(), trials, s.test(), s.voxels(), s.features(), o.alphas().length, s.folds(), o.f64() ? 64 : 32);
        Tensor xTr = mappedRandom(rng, s.train(), s.features(), dir.resolve("train.npy"));
        Tensor xTe = mappedRandom(rng, s.test(), s.features(), dir.resolve("test.npy")), y = random(rng, trials, s.voxels());
        int[] rows = new int[trials];
        java.util.Arrays.setAll(rows, i -> i % s.train());
        EncodingModel.Options opt = new EncodingModel.Options(o.alphas(), s.folds(), o.bandRatios(), o.f64());
        DenseLinAlg la = DenseLinAlg.forBackend(be);
        out.println("linear algebra: " + la.describe());
        long cpu0 = cpuNanos(), t0 = System.nanoTime();
        EncodingModel.Fit f = EncodingModel.fit(la, xTr, rows, y, xTe, opt, m -> {
            out.println("  " + m);
            out.flush();
        });
        double wall = (System.nanoTime() - t0) / 1e9, cpu = (cpuNanos() - cpu0) / 1e9;
        double flop = flops(s, o.alphas().length);
        out.printf(Locale.ROOT, "encode fit+predict: %.1f s wall, %.1f s process CPU, %.1f TFLOP (%.1f GFLOP/s wall); predictions %s%n",
                wall, cpu, flop / 1e12, flop / wall / 1e9, f.predictions().shapeString());
    }

    /** The analytic FLOP count of the CV folds and the refit (GEMMs 2mnk, eigendecomposition 9r³), and of the Gram matrix. */
    public static double flops(Size s, int alphas) {
        int[] fold = Folds.assign(s.train(), s.folds(), null);
        int largest = 0;
        for (int f = 0; f < s.folds(); f++) largest = Math.max(largest, count(fold, f));
        boolean kernel = s.features() > s.train() - largest; // as EncodingModel chooses
        double n = s.train() + s.test(), total = kernel ? 2 * n * n * s.features() : 0;
        for (int f = 0; f < s.folds(); f++) {
            int held = count(fold, f);
            total += solveFlops(kernel, s.train() - held, held, s.features(), s.voxels(), alphas);
        }
        return total + solveFlops(kernel, s.train(), s.test(), s.features(), s.voxels(), 1);
    }

    private static int count(int[] fold, int f) {
        int c = 0;
        for (int v : fold) if (v == f) c++;
        return c;
    }

    /**
     * One decomposition on nTr images, projection of nHeld images, Q = Lᵀ Ỹ and {@code predictions} predictions of
     * nHeld × t; the kernel form starts from the Gram matrix (counted once in {@link #flops}).
     */
    static double solveFlops(boolean kernel, double nTr, double nHeld, double p, double t, int predictions) {
        if (!kernel) { // primal: X̃ᵀX̃ p², eigh, basis L = X̃ Eᵀ, Z = X_h Eᵀ
            return 2 * nTr * p * p + 9 * p * p * p + 2 * nTr * p * p + 2 * nHeld * p * p + 2 * p * nTr * t + predictions * 2 * nHeld * p * t;
        }
        return 9 * nTr * nTr * nTr + 2 * nHeld * nTr * nTr + 2 * nTr * nTr * t + predictions * 2 * nHeld * nTr * t;
    }

    /** (n, m) standard normal float32 values written row by row to a .npy file, then mapped. */
    private static Tensor mappedRandom(SplittableRandom rng, int n, int m, Path file) throws IOException {
        Npy.writeRows(file, n, m, rows -> {
            float[] row = new float[m];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < m; j++) row[j] = (float) rng.nextGaussian();
                rows.row(row);
            }
        });
        return Npy.map(file);
    }

    private static Tensor random(SplittableRandom rng, int n, int m) {
        float[] v = new float[Math.multiplyExact(n, m)];
        for (int i = 0; i < v.length; i++) v[i] = (float) rng.nextGaussian();
        return Tensor.of(v, n, m);
    }

    private static long cpuNanos() {
        var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : 0;
    }
}
