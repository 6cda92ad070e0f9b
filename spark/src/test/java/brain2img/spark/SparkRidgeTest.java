package brain2img.spark;

import brain2img.io.Npy;
import brain2img.io.SafeTensors;
import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code spark ridge} (local[2]) against {@code ridge fit} on the same files. */
class SparkRidgeTest {
    @Test
    void sparkRidgeWritesRidgeFitsModel(@TempDir Path tmp) throws IOException {
        // the kernel form (p > n): RidgeBlocks follows RidgeCV's arithmetic there exactly (in the primal form RidgeCV
        // solves by Cholesky per alpha and the blocks agree to rounding: RidgeBlocksTest)
        int n = 48, p = 60, t = 9;
        Random r = new Random(11);
        double[] x = new double[n * p], y = new double[n * t], g = new double[n];
        for (int i = 0; i < x.length; i++) x[i] = r.nextGaussian();
        for (int i = 0; i < n; i++) {
            g[i] = i / 3; // 16 groups of 3 samples
            for (int j = 0; j < t; j++) y[i * t + j] = (j + 1) * x[i * p + j % p] - x[i * p + (j + 3) % p] + r.nextGaussian();
        }
        Path xf = tmp.resolve("x.npy"), yf = tmp.resolve("y.npy"), gf = tmp.resolve("g.npy");
        Npy.write(xf, Tensor.of(x, n, p));
        Npy.write(yf, Tensor.of(y, n, t));
        Npy.write(gf, Tensor.of(g, n));
        String[] common = {"--x", xf.toString(), "--y", yf.toString(), "--groups", gf.toString(), "--alphas", "0.1,1,10,100,1000",
                "--folds", "4", "--standardize", "--dtype", "f64", "--device", "cpu"};
        Path fit = tmp.resolve("fit.safetensors"), one = tmp.resolve("one-block.safetensors"), blocks = tmp.resolve("blocks.safetensors");
        assertEquals(0, SparkMain.execute(concat(new String[]{"ridge", "fit", "--out", fit.toString()}, common)));
        // one block of all targets: ridge fit's own partition, so its file byte for byte
        assertEquals(0, SparkMain.execute(concat(new String[]{"spark", "ridge", "--master", "local[2]", "--block", "64", "--out", one.toString()}, common)));
        assertArrayEquals(Files.readAllBytes(fit), Files.readAllBytes(one));
        // blocks of 2 targets as 5 tasks: the same alphas and scores, coefficients to rounding
        assertEquals(0, SparkMain.execute(concat(new String[]{"spark", "ridge", "--master", "local[2]", "--block", "2", "--out", blocks.toString()}, common)));
        assertTrue(Files.isRegularFile(tmp.resolve("blocks.safetensors.parts/fold-3.safetensors")), "factorisations shared through files");
        try (SafeTensors a = SafeTensors.open(fit); SafeTensors b = SafeTensors.open(blocks)) {
            assertEquals(a.metadata(), b.metadata());
            assertArrayEquals(a.get("alpha").toDoubleArray(), b.get("alpha").toDoubleArray());
            for (String name : new String[]{"coef", "intercept", "cv_score", "x_mean", "x_scale"}) {
                double[] u = a.get(name).toDoubleArray(), v = b.get(name).toDoubleArray();
                assertEquals(u.length, v.length, name);
                for (int i = 0; i < u.length; i++) assertEquals(u[i], v[i], 1e-12 * Math.max(1, Math.abs(u[i])), name + "[" + i + "]");
            }
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
