package brain2img.encode;

import brain2img.backend.Backend;
import brain2img.ridge.DenseLinAlg;
import brain2img.ridge.Folds;
import brain2img.tensor.Tensor;

import java.io.PrintStream;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The encoding model's cost at a given size on random data: one feature space, every voxel, the CV alpha grid,
 * test predictions ({@link EncodingModel#fit}). NSD size: 8,859 training images, 982 test images, 15,724 voxels,
 * 6,400 features (z at 320 px). FLOPs are counted analytically from the work the ridge engine does.
 */
public final class EncodeBench {
    private EncodeBench() {}

    public record Size(int train, int test, int voxels, int features, int folds) {}

    public static void run(Backend be, Size s, EncodingModel.Options o, long seed, PrintStream out) {
        SplittableRandom rng = new SplittableRandom(seed);
        out.printf(Locale.ROOT, "encode bench: %d training images, %d test images, %d voxels, %d features, %d alphas, %d folds, f%d%n",
                s.train(), s.test(), s.voxels(), s.features(), o.alphas().length, s.folds(), o.f64() ? 64 : 32);
        Tensor xTr = random(rng, s.train(), s.features()), xTe = random(rng, s.test(), s.features()), y = random(rng, s.train(), s.voxels());
        int[] rows = new int[s.train()];
        java.util.Arrays.setAll(rows, i -> i);
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

    /** The analytic FLOP count of the CV folds and the refit (GEMMs 2mnk, eigendecomposition 9r³). */
    public static double flops(Size s, int alphas) {
        int[] fold = Folds.assign(s.train(), s.folds(), null);
        double total = 0;
        for (int f = 0; f < s.folds(); f++) {
            int val = 0;
            for (int v : fold) if (v == f) val++;
            total += solveFlops(s.train() - val, val, s.features(), s.voxels(), alphas);
        }
        return total + solveFlops(s.train(), s.test(), s.features(), s.voxels(), 1);
    }

    /** One decomposition on nTr rows, projection of nHeld rows, Q = Lᵀ Y and {@code predictions} predictions of nHeld × t. */
    static double solveFlops(double nTr, double nHeld, double p, double t, int predictions) {
        if (p <= nTr) { // primal: Gram p², eigh, basis L = Xc Eᵀ, Z = Xte Eᵀ
            return 2 * nTr * p * p + 9 * p * p * p + 2 * nTr * p * p + 2 * nHeld * p * p + 2 * p * nTr * t + predictions * 2 * nHeld * p * t;
        }
        return 2 * nTr * nTr * p + 9 * nTr * nTr * nTr + 2 * nHeld * nTr * p + 2 * nHeld * nTr * nTr + 2 * nTr * nTr * t
                + predictions * 2 * nHeld * nTr * t;
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
