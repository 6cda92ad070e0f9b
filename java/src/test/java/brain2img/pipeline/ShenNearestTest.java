package brain2img.pipeline;

import brain2img.dir.StoredFeatures;
import brain2img.eval.Correlation;
import brain2img.io.Npy;
import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** The nearest-train null's choice: Pearson r per layer, averaged over layers, streamed over blocks of units. */
class ShenNearestTest {
    @Test
    void streamedCorrelationPicksWhatTheDirectOneDoes(@TempDir Path tmp) throws Exception {
        Random rnd = new Random(3);
        int train = 7, decoded = 4;
        int[] units = {5000, 12}; // the first layer spans two blocks of 4096 units
        for (int l = 0; l < units.length; l++) {
            write(tmp.resolve("train/l" + l + ".npy"), rnd, train, units[l]);
            write(tmp.resolve("decoded/l" + l + ".npy"), rnd, decoded, units[l]);
        }
        List<String> layers = List.of("l0", "l1");
        StoredFeatures t = new StoredFeatures(tmp.resolve("train"), layers), d = new StoredFeatures(tmp.resolve("decoded"), layers);
        int[] expected = new int[decoded];
        for (int i = 0; i < decoded; i++) {
            double best = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < train; k++) {
                double r = 0;
                for (String l : layers) r += Correlation.pearson(row(d, l, i), row(t, l, k)) / layers.size();
                if (r > best) {
                    best = r;
                    expected[i] = k;
                }
            }
        }
        assertArrayEquals(expected, ShenPipeline.nearestRows(d, t));
    }

    /** Rows with a shared component plus noise, so the correlations differ and the choice is not trivial. */
    private static void write(Path file, Random rnd, int rows, int cols) throws Exception {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) v[i] = (float) (Math.sin(i % cols) + rnd.nextGaussian());
        java.nio.file.Files.createDirectories(file.getParent());
        Npy.write(file, Tensor.of(v, rows, cols));
    }

    private static double[] row(StoredFeatures f, String layer, int i) {
        float[] all = f.block(layer, 0, f.units(layer));
        int w = (int) f.units(layer);
        double[] r = new double[w];
        for (int j = 0; j < w; j++) r[j] = all[i * w + j];
        return r;
    }
}
