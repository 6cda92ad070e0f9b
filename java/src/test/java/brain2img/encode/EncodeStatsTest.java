package brain2img.encode;

import brain2img.io.Json;
import brain2img.tensor.Tensor;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** VoxelStats against SciPy (tools/encode_stats_reference.py) and closed forms. */
class EncodeStatsTest {
    private static double[] doubles(JsonNode a) {
        double[] v = new double[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = a.get(i).asDouble();
        return v;
    }

    @Test
    void tTestAndBenjaminiHochbergMatchScipy() throws Exception {
        JsonNode g = Json.read(Path.of(getClass().getResource("/brain2img/encode/stats_golden.json").toURI()));
        double[] r = doubles(g.get("r")), pRef = doubles(g.get("p")), qRef = doubles(g.get("q"));
        double[] p = VoxelStats.tTestP(r, g.get("n").asInt());
        for (int i = 0; i < r.length; i++) {
            assertEquals(pRef[i], p[i], 1e-9 + 1e-6 * pRef[i], "p of r=" + r[i]);
        }
        double[] q = VoxelStats.benjaminiHochberg(pRef);
        assertArrayEquals(qRef, q, 1e-12);
    }

    @Test
    void benjaminiHochbergByHand() {
        // sorted 0.01, 0.03, 0.04, 0.20 (m = 4): p·m/rank = 0.04, 0.06, 0.0533, 0.20, then running minimum from the top
        double[] q = VoxelStats.benjaminiHochberg(new double[]{0.01, 0.04, 0.03, 0.20, Double.NaN});
        assertArrayEquals(new double[]{0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.20}, java.util.Arrays.copyOf(q, 4), 1e-15);
        assertTrue(Double.isNaN(q[4]), "a NaN p-value stays NaN and is not counted");
    }

    @Test
    void pearsonR2AndPermutationP() {
        // column 0: prediction = 2·actual + 1 (r = 1, R² < 1 because of the scale), column 1: independent noise
        int n = 50;
        SplittableRandom rng = new SplittableRandom(3);
        float[] a = new float[n * 2], p = new float[n * 2];
        for (int i = 0; i < n; i++) {
            a[i * 2] = (float) rng.nextGaussian();
            p[i * 2] = 2 * a[i * 2] + 1;
            a[i * 2 + 1] = (float) rng.nextGaussian();
            p[i * 2 + 1] = (float) rng.nextGaussian();
        }
        Tensor pred = Tensor.of(p, n, 2), act = Tensor.of(a, n, 2);
        double[] r = VoxelStats.pearson(pred, act), r2 = VoxelStats.r2(pred, act);
        assertEquals(1, r[0], 1e-6);
        // SSE = Σ(a − 2a − 1)² = Σ(a + 1)², SST = Σ(a − ā)²
        double sse = 0, sst = 0, mean = 0;
        for (int i = 0; i < n; i++) mean += a[i * 2] / (double) n;
        for (int i = 0; i < n; i++) {
            sse += Math.pow(a[i * 2] + 1.0, 2);
            sst += Math.pow(a[i * 2] - mean, 2);
        }
        assertEquals(1 - sse / sst, r2[0], 1e-6);
        double[] perm = VoxelStats.permutationP(pred, act, 999, 1);
        assertEquals(1 / 1000.0, perm[0], 1e-12, "no permutation reaches r = 1");
        double[] t = VoxelStats.tTestP(r, n);
        assertTrue(Math.abs(perm[1] - t[1]) < 0.1, "permutation " + perm[1] + " and t-test " + t[1] + " p agree for a null voxel");
    }
}
