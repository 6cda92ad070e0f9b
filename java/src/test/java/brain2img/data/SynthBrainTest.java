package brain2img.data;

import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.CholeskyDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the synthetic brain is for: its stated SNR is what the data show, pixels can be decoded from the
 * early-visual voxels by ridge regression, and scene attributes from the semantic voxels.
 */
class SynthBrainTest {
    @TempDir
    static Path tmp;
    static Dataset d;
    static final double SNR = 1.0;

    @BeforeAll
    static void make() throws IOException {
        long t0 = System.nanoTime();
        Synth.generate(tmp.resolve("s"), Synth.Options.of(400, 600, 11).withImageSize(32).withSnr(SNR));
        System.out.printf("synth 400 images × 600 voxels, 32×32: %.2f s%n", (System.nanoTime() - t0) / 1e9);
        d = Dataset.open(tmp.resolve("s"));
    }

    /** Signal and noise variance from the 3 repeats of the test images: median ratio ≈ the stated SNR. */
    @Test
    void measuredSnrMatchesTheStatedOne() {
        List<Integer> ids = d.imageIds(Split.TEST);
        int v = d.voxels();
        double[] ratio = new double[v];
        float[] r = d.responses().toFloatArray();
        for (int jj = 0; jj < v; jj++) {
            final int j = jj;
            double noise = 0, grand = 0;
            double[] means = new double[ids.size()];
            for (int i = 0; i < ids.size(); i++) {
                final int id = ids.get(i);
                double[] x = d.trials().stream().filter(t -> t.imageId() == id).mapToDouble(t -> r[t.index() * v + j]).toArray();
                means[i] = Arrays.stream(x).average().orElseThrow();
                for (double xi : x) noise += (xi - means[i]) * (xi - means[i]) / (x.length - 1) / ids.size();
                grand += means[i] / ids.size();
            }
            double varMeans = 0;
            for (double m : means) varMeans += (m - grand) * (m - grand) / (ids.size() - 1);
            ratio[j] = (varMeans - noise / 3) / noise; // var(mean of 3) = signal + noise/3
        }
        Arrays.sort(ratio);
        double median = ratio[v / 2];
        System.out.printf("measured median SNR %.3f (stated %.1f)%n", median, SNR);
        assertEquals(SNR, median, 0.3 * SNR);
    }

    /** Dual-form ridge from z-scored early voxels to pixels; Pearson r per test image against the training-mean image. */
    @Test
    void pixelsDecodeFromEarlyVoxels() {
        int[] early = d.roi("early");
        double[][] xTr = features(d.average(Split.TRAIN).responses().toFloatArray(), early);
        double[][] xTe = features(d.average(Split.TEST).responses().toFloatArray(), early);
        zscore(xTr, xTe);
        int[] trIds = d.average(Split.TRAIN).imageIds(), teIds = d.average(Split.TEST).imageIds();
        double[][] yTr = pixels(trIds);
        double[][] yTe = pixels(teIds);
        double[][] pred = ridge(xTr, yTr, xTe, early.length);
        double[] mean = new double[yTr[0].length];
        for (double[] y : yTr) for (int p = 0; p < y.length; p++) mean[p] += y[p] / yTr.length;
        double rPred = 0, rMean = 0;
        for (int i = 0; i < yTe.length; i++) {
            rPred += pearson(pred[i], yTe[i]) / yTe.length;
            rMean += pearson(mean, yTe[i]) / yTe.length;
        }
        System.out.printf("pixel correlation: ridge from %d early voxels %.3f, training-mean image %.3f%n", early.length, rPred, rMean);
        assertTrue(rPred > 0.6 && rPred > rMean + 0.25, "ridge " + rPred + " vs mean image " + rMean);
    }

    /** Ridge from the semantic (ventral) voxels to the attribute vector: far above chance for colour presence. */
    @Test
    void attributesDecodeFromSemanticVoxels() {
        int[] ventral = d.roi("ventral");
        double[][] xTr = features(d.average(Split.TRAIN).responses().toFloatArray(), ventral);
        double[][] xTe = features(d.average(Split.TEST).responses().toFloatArray(), ventral);
        zscore(xTr, xTe);
        Synth.Design design = Synth.Design.of(Synth.Options.of(400, 600, 11).withImageSize(32).withSnr(SNR));
        int[] trIds = d.average(Split.TRAIN).imageIds(), teIds = d.average(Split.TEST).imageIds();
        double[][] aTr = new double[trIds.length][], aTe = new double[teIds.length][];
        for (int i = 0; i < trIds.length; i++) aTr[i] = design.scenes().get(trIds[i]).attributes();
        for (int i = 0; i < teIds.length; i++) aTe[i] = design.scenes().get(teIds[i]).attributes();
        double[][] pred = ridge(xTr, aTr, xTe, ventral.length);
        int right = 0, total = 0;
        for (int i = 0; i < aTe.length; i++) {
            for (int k = SynthScene.KINDS.length; k < SynthScene.KINDS.length + SynthScene.COLOURS.length; k++) {
                if ((pred[i][k] > 0.5) == (aTe[i][k] > 0.5)) right++;
                total++;
            }
        }
        double acc = right / (double) total;
        System.out.printf("colour presence decoded from %d semantic voxels: %.3f correct%n", ventral.length, acc);
        assertTrue(acc > 0.8, "accuracy " + acc);
    }

    private double[][] pixels(int[] ids) {
        double[][] y = new double[ids.length][];
        for (int i = 0; i < ids.length; i++) {
            float[] f = d.stimulus(ids[i]).toFloatArray();
            y[i] = new double[f.length];
            for (int p = 0; p < f.length; p++) y[i][p] = f[p];
        }
        return y;
    }

    @Test
    void luminanceIsLightAdaptedAndColourIsNot() {
        // two uniform images, dark and bright yellow: the luminance channel is 0 in both (relative to the image mean),
        // red−green and blue−yellow keep their absolute values
        for (int level : new int[]{60, 220}) {
            byte[] rgb = new byte[8 * 8 * 3];
            for (int i = 0; i < 64; i++) {
                rgb[3 * i] = (byte) level;
                rgb[3 * i + 1] = (byte) level;
            }
            float[] f = SynthBrain.features(rgb, 8);
            double v = level / 255.0;
            for (int cell = 0; cell < SynthBrain.GRID * SynthBrain.GRID; cell++) {
                assertEquals(0, f[cell * SynthBrain.CHANNELS], 1e-6, "luminance at cell " + cell);
                assertEquals(0, f[cell * SynthBrain.CHANNELS + 1], 1e-6, "red−green");
                assertEquals(-v, f[cell * SynthBrain.CHANNELS + 2], 1e-6, "blue−yellow");
                assertEquals(0, f[cell * SynthBrain.CHANNELS + 3], 1e-6, "contrast");
            }
        }
        // a bright left half on a dark right half: + on the left, − on the right, summing to 0
        byte[] rgb = new byte[16 * 16 * 3];
        for (int y = 0; y < 16; y++) for (int x = 0; x < 8; x++) for (int c = 0; c < 3; c++) rgb[(y * 16 + x) * 3 + c] = (byte) 200;
        float[] f = SynthBrain.features(rgb, 16);
        double half = 200 / 255.0 / 2;
        assertEquals(half, f[0], 1e-6, "left cell");
        assertEquals(-half, f[15 * SynthBrain.CHANNELS], 1e-6, "right cell");
    }

    private double[][] features(float[] rows, int[] cols) {
        int v = d.voxels(), n = rows.length / v;
        double[][] x = new double[n][cols.length];
        for (int i = 0; i < n; i++) for (int j = 0; j < cols.length; j++) x[i][j] = rows[i * v + cols[j]];
        return x;
    }

    private static void zscore(double[][] train, double[][] test) {
        for (int j = 0; j < train[0].length; j++) {
            double m = 0, s = 0;
            for (double[] r : train) m += r[j] / train.length;
            for (double[] r : train) s += (r[j] - m) * (r[j] - m) / train.length;
            double sd = Math.sqrt(s);
            for (double[] r : train) r[j] = (r[j] - m) / sd;
            for (double[] r : test) r[j] = (r[j] - m) / sd;
        }
    }

    /** ŷ = X_te Xᵀ (X Xᵀ + λI)⁻¹ (Y − ȳ) + ȳ, with λ = number of voxels (a fixed, untuned choice). */
    private static double[][] ridge(double[][] x, double[][] y, double[][] xTe, double lambda) {
        RealMatrix X = new Array2DRowRealMatrix(x), Xt = new Array2DRowRealMatrix(xTe);
        double[] mean = new double[y[0].length];
        for (double[] r : y) for (int p = 0; p < mean.length; p++) mean[p] += r[p] / y.length;
        double[][] yc = new double[y.length][mean.length];
        for (int i = 0; i < y.length; i++) for (int p = 0; p < mean.length; p++) yc[i][p] = y[i][p] - mean[p];
        RealMatrix K = X.multiply(X.transpose());
        for (int i = 0; i < K.getRowDimension(); i++) K.addToEntry(i, i, lambda);
        RealMatrix alpha = new CholeskyDecomposition(K).getSolver().solve(new Array2DRowRealMatrix(yc));
        double[][] out = Xt.multiply(X.transpose()).multiply(alpha).getData();
        for (double[] r : out) for (int p = 0; p < mean.length; p++) r[p] += mean[p];
        return out;
    }

    private static double pearson(double[] a, double[] b) {
        double ma = Arrays.stream(a).average().orElseThrow(), mb = Arrays.stream(b).average().orElseThrow();
        double sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.length; i++) {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }
        return sab / Math.sqrt(saa * sbb);
    }
}
