package brain2img.serve;

import org.junit.jupiter.api.Test;

import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Online preprocessing against direct computations over the whole series so far. */
class OnlinePreprocessorTest {
    static final int V = 5;

    static Volume vol(int i, float[] x) {
        return new Volume(i, i, "test", 100 + i, 0, 0, x, 0, 0);
    }

    static float[][] series(int n, long seed) {
        Random r = new Random(seed);
        float[][] s = new float[n][V];
        for (int t = 0; t < n; t++) for (int v = 0; v < V; v++) s[t][v] = (float) (1000 + 50 * v + (v + 1) * r.nextGaussian()); // raw BOLD-like levels
        return s;
    }

    @Test
    void byDefaultAVolumePassesUntouched() {
        OnlinePreprocessor p = new OnlinePreprocessor(OnlineSettings.none(), null, null);
        float[] x = {1, 2, 3};
        Volume v = vol(0, x);
        assertSame(v, p.accept(v).orElseThrow());
    }

    @Test
    void zScoringUsesRunningStatisticsAfterTheBaselineAndMapsIntoTheTrainingScale() {
        float[] mu = {0, 1, 2, 3, 4}, sigma = {1, 2, 0.5f, 3, 1};
        OnlinePreprocessor p = new OnlinePreprocessor(new OnlineSettings(4, 1, 0), mu, sigma);
        float[][] s = series(12, 3);
        for (int t = 0; t < s.length; t++) {
            Optional<Volume> out = p.accept(vol(t, s[t]));
            assertEquals(t >= 4, out.isPresent(), "baseline volumes give no output: " + t);
            if (out.isEmpty()) continue;
            for (int v = 0; v < V; v++) {
                double mean = 0, ss = 0;
                for (int u = 0; u <= t; u++) mean += s[u][v];
                mean /= t + 1;
                for (int u = 0; u <= t; u++) ss += (s[u][v] - mean) * (s[u][v] - mean);
                double z = (s[t][v] - mean) / Math.sqrt(ss / (t + 1));
                assertEquals(mu[v] + sigma[v] * z, out.get().voxels()[v], 1e-4, "t " + t + " voxel " + v);
            }
        }
    }

    @Test
    void theWindowAveragesTheLastKVolumes() {
        OnlinePreprocessor p = new OnlinePreprocessor(new OnlineSettings(0, 3, 0), null, null);
        float[][] s = series(7, 4);
        for (int t = 0; t < s.length; t++) {
            float[] out = p.accept(vol(t, s[t])).orElseThrow().voxels();
            int from = Math.max(0, t - 2);
            for (int v = 0; v < V; v++) {
                double m = 0;
                for (int u = from; u <= t; u++) m += s[u][v];
                assertEquals(m / (t - from + 1), out[v], 1e-3);
            }
        }
    }

    @Test
    void theDelayAttributesVolumeVToTheEventAndImageOfVolumeVMinusK() {
        OnlinePreprocessor p = new OnlinePreprocessor(new OnlineSettings(0, 1, 2), null, null);
        float[][] s = series(6, 5);
        for (int t = 0; t < s.length; t++) {
            Optional<Volume> out = p.accept(vol(t, s[t]));
            assertEquals(t >= 2, out.isPresent());
            if (out.isEmpty()) continue;
            assertEquals(t, out.get().index());
            assertEquals(t - 2, out.get().event());
            assertEquals(100 + t - 2, out.get().imageId());
            assertEquals(s[t][0], out.get().voxels()[0]);
        }
    }

    @Test
    void settingsOutOfRangeAreRefusedNamingTheOption() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new OnlineSettings(1, 1, 0)).getMessage().contains("--zscore-baseline"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new OnlineSettings(0, 0, 0)).getMessage().contains("--window"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new OnlineSettings(0, 1, -1)).getMessage().contains("--delay"));
    }
}
