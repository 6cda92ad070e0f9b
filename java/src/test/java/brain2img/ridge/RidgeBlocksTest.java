package brain2img.ridge;

import brain2img.io.SafeTensors;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * RidgeBlocks (factorise once, score and refit target blocks anywhere, assemble) against RidgeCV on the same
 * problem: in the kernel form the model file is byte for byte the one RidgeCV writes with the same target block
 * width; in the primal form (RidgeCV: Cholesky per alpha) the same alphas and coefficients to rounding.
 */
class RidgeBlocksTest {
    @Test
    void blockwiseFitWritesRidgeCvsModelFile(@TempDir Path tmp) throws IOException {
        CpuDenseLinAlg la = new CpuDenseLinAlg();
        // primal (n > p) with groups and standardisation; kernel (p > n) with shared alpha; f32 and f64
        check(la, tmp.resolve("primal"), 60, 12, 11, RidgeOptions.defaults(0.1, 1, 10, 100).withF64(true).withStandardize(true)
                .withGroups(groups(60, 20)), 4);
        check(la, tmp.resolve("kernel"), 30, 45, 7, RidgeOptions.defaults(1, 10, 100).withPerTarget(false).withFolds(3), 3);
        check(la, tmp.resolve("f32"), 50, 8, 9, RidgeOptions.defaults(0.5, 5, 50), 2);
    }

    private static void check(CpuDenseLinAlg la, Path dir, int n, int p, int t, RidgeOptions opt, int width) throws IOException {
        Random r = new Random(n * 31L + p);
        double[] x = new double[n * p], y = new double[n * t];
        for (int i = 0; i < x.length; i++) x[i] = r.nextGaussian();
        for (int i = 0; i < n; i++) for (int j = 0; j < t; j++) y[i * t + j] = x[i * p + j % p] * (j + 1) + 0.5 * r.nextGaussian() + j;
        Tensor xt = Tensor.of(x, n, p), yt = Tensor.of(y, n, t);

        RidgeBlocks.Prepared pr = RidgeBlocks.prepare(la, xt, t, opt, dir.resolve("work"), null);
        List<int[]> blocks = RidgeBlocks.blocks(t, width);
        double[][] score = new double[opt.alphas().length][t];
        for (int[] b : blocks) { // in reverse, as unordered tasks would
            double[][] s = RidgeBlocks.scores(pr, la, yt, b[0], b[1]);
            for (int a = 0; a < s.length; a++) System.arraycopy(s[a], 0, score[a], b[0], b[1] - b[0]);
        }
        double[] chosen = RidgeBlocks.choose(opt, score);
        for (int i = blocks.size() - 1; i >= 0; i--) RidgeBlocks.refit(pr, la, yt, blocks.get(i)[0], blocks.get(i)[1], chosen);
        RidgeBlocks.assemble(pr, la, blocks, chosen, score).save(dir.resolve("blocks.safetensors"));

        RidgeCV.fit(la, xt, yt, opt, null, width).save(dir.resolve("ridgecv.safetensors"));
        if (p >= n) { // the kernel form: RidgeCV's arithmetic exactly, so the file is the same byte for byte
            assertArrayEquals(Files.readAllBytes(dir.resolve("ridgecv.safetensors")), Files.readAllBytes(dir.resolve("blocks.safetensors")), dir.toString());
        }

        // for n > p RidgeCV solves by Cholesky per alpha while the blocks reuse one eigendecomposition per fold:
        // against RidgeCV (all targets at once) the same alphas, coefficients to rounding
        RidgeModel whole = RidgeCV.fit(la, xt, yt, opt, null, 0);
        try (SafeTensors b = SafeTensors.open(dir.resolve("blocks.safetensors"))) {
            assertArrayEquals(whole.alpha().toDoubleArray(), b.get("alpha").toDoubleArray());
            double[] c0 = whole.coef().toDoubleArray(), c1 = b.get("coef").toDoubleArray();
            double tol = opt.f64() ? 1e-12 : 1e-5, scale = 0;
            for (double v : c0) scale = Math.max(scale, Math.abs(v));
            for (int i = 0; i < c0.length; i++) assertEquals(c0[i], c1[i], tol * scale, "coef " + i);
            assertEquals(opt.f64() ? DType.F64 : DType.F32, b.get("coef").dtype());
        }
    }

    private static int[] groups(int n, int distinct) {
        int[] g = new int[n];
        for (int i = 0; i < n; i++) g[i] = (i * 7) % distinct;
        return g;
    }
}
