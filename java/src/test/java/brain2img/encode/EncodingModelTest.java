package brain2img.encode;

import brain2img.io.Npy;
import brain2img.ridge.CpuDenseLinAlg;
import brain2img.ridge.RidgeCVPredict;
import brain2img.ridge.RidgeOptions;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The encoding model is ridge on the training trials with standardised, √p-scaled (and band-weighted) features:
 * checked against RidgeCVPredict on the explicitly expanded trial × feature matrix, in the primal and the kernel
 * form, for one space and for the banded two-space model, with the features read from memory-mapped files.
 */
class EncodingModelTest {
    @TempDir
    Path tmp;

    private static final EncodingModel.Options F64 = new EncodingModel.Options(new double[]{0.01, 0.1, 1, 10, 100, 1000}, 4,
            new double[]{0.1, 1, 10}, true);

    private static Tensor gaussian(SplittableRandom rng, int n, int m, double offset) {
        float[] v = new float[n * m];
        for (int i = 0; i < v.length; i++) v[i] = (float) (offset + (1 + i % 3) * rng.nextGaussian());
        return Tensor.of(v, n, m);
    }

    /** Trials: each of n images shown 1–3 times, in an interleaved order. */
    private static int[] trials(SplittableRandom rng, int n) {
        int[] reps = new int[n];
        int total = 0;
        for (int i = 0; i < n; i++) total += reps[i] = 1 + rng.nextInt(3);
        int[] rows = new int[total];
        for (int r = 0, k = 0; r < 3; r++) for (int i = 0; i < n; i++) if (reps[i] > r) rows[k++] = i;
        return rows;
    }

    private static Tensor responses(SplittableRandom rng, Tensor x, int[] rows, int t) {
        int p = x.dimInt(1);
        float[] xv = x.toFloatArray(), y = new float[rows.length * t];
        for (int tr = 0; tr < rows.length; tr++) for (int j = 0; j < t; j++) {
            double s = 2 * rng.nextGaussian();
            for (int k = j; k < p; k += t) s += xv[rows[tr] * p + k] * 0.3;
            y[tr * t + j] = (float) s;
        }
        return Tensor.of(y, rows.length, t);
    }

    /** Each band standardised by the training images, / √p_b · √w_b, concatenated; rows = training then test images. */
    private static double[][] standardisedByHand(Tensor[] train, Tensor[] test, double[] w) {
        int nTr = train[0].dimInt(0), nTe = test[0].dimInt(0);
        double[][] out = new double[nTr + nTe][0];
        for (int b = 0; b < train.length; b++) {
            int p = train[b].dimInt(1);
            float[] tr = train[b].toFloatArray(), te = test[b].toFloatArray();
            for (int j = 0; j < p; j++) {
                double m = 0, ss = 0;
                for (int i = 0; i < nTr; i++) m += tr[i * p + j];
                m /= nTr;
                for (int i = 0; i < nTr; i++) ss += (tr[i * p + j] - m) * (tr[i * p + j] - m);
                double scale = Math.sqrt(w[b] / p) / Math.sqrt(ss / nTr);
                for (int i = 0; i < nTr + nTe; i++) {
                    double v = i < nTr ? tr[i * p + j] : te[(i - nTr) * p + j];
                    out[i] = Arrays.copyOf(out[i], out[i].length + 1);
                    out[i][out[i].length - 1] = (v - m) * scale;
                }
            }
        }
        return out;
    }

    /** RidgeCVPredict on the trial rows (copies of their images' rows), CV grouped by image. */
    private static RidgeCVPredict.Result trialLevel(double[][] x, int nTr, int[] rows, Tensor y, EncodingModel.Options o) {
        int p = x[0].length, nTe = x.length - nTr;
        double[] xt = new double[rows.length * p], te = new double[nTe * p];
        for (int tr = 0; tr < rows.length; tr++) System.arraycopy(x[rows[tr]], 0, xt, tr * p, p);
        for (int i = 0; i < nTe; i++) System.arraycopy(x[nTr + i], 0, te, i * p, p);
        RidgeOptions opt = RidgeOptions.defaults(o.alphas()).withFolds(o.folds()).withGroups(rows).withF64(true);
        return RidgeCVPredict.fit(CpuDenseLinAlg.best(), Tensor.of(xt, rows.length, p), y.to(DType.F64), Tensor.of(te, nTe, p), opt, null);
    }

    private Tensor mapped(Tensor t, String name) throws Exception {
        Path f = tmp.resolve(name + ".npy");
        Npy.write(f, t);
        return Npy.map(f);
    }

    private static void assertClose(double[] ref, double[] got, double tol, String what) {
        for (int i = 0; i < ref.length; i++) assertTrue(Math.abs(ref[i] - got[i]) <= tol * (1 + Math.abs(ref[i])), what + " " + i + ": " + got[i] + " vs " + ref[i]);
    }

    @Test
    void oneSpaceEqualsRidgeOnTheExpandedTrials() throws Exception {
        for (int p : new int[]{10, 300}) { // primal and kernel form (40 images, 30 per fold's training set)
            SplittableRandom rng = new SplittableRandom(p);
            int n = 40, nTe = 7, t = 6;
            int[] rows = trials(rng, n);
            Tensor train = gaussian(rng, n, p, 5), test = gaussian(rng, nTe, p, 5);
            Tensor y = responses(rng, train, rows, t);
            assertEquals(p > 30, EncodingModel.kernel(p, rows, F64.folds()), "form for p=" + p);
            EncodingModel.Fit fit = EncodingModel.fit(CpuDenseLinAlg.best(), mapped(train, "tr" + p), rows, y, mapped(test, "te" + p), F64, s -> {});
            RidgeCVPredict.Result ref = trialLevel(standardisedByHand(new Tensor[]{train}, new Tensor[]{test}, new double[]{1}), n, rows, y, F64);
            assertArrayEquals(ref.alpha(), fit.alpha(), 0, "alphas, p=" + p);
            assertClose(ref.bestScore(F64.alphas()), fit.cvR2(), 1e-9, "CV R², p=" + p);
            assertClose(ref.predictions().toDoubleArray(), fit.predictions().toDoubleArray(), 1e-6, "prediction, p=" + p);
        }
    }

    @Test
    void bandedModelKeepsEachVoxelsBestRatio() throws Exception {
        for (int pb : new int[]{6, 200}) { // primal and kernel form
            SplittableRandom rng = new SplittableRandom(100 + pb);
            int n = 40, nTe = 6, t = 5, pa = 9;
            int[] rows = trials(rng, n);
            Tensor trA = gaussian(rng, n, pa, 0), teA = gaussian(rng, nTe, pa, 0), trB = gaussian(rng, n, pb, -3), teB = gaussian(rng, nTe, pb, -3);
            Tensor y = responses(rng, trA, rows, t);
            EncodingModel.Fit fit = EncodingModel.fitBanded(CpuDenseLinAlg.best(), mapped(trA, "a" + pb), mapped(trB, "b" + pb), rows, y,
                    mapped(teA, "ta" + pb), mapped(teB, "tb" + pb), F64, s -> {});
            double[] best = new double[t], alpha = new double[t], ratio = new double[t];
            double[][] pred = new double[t][];
            Arrays.fill(best, Double.NEGATIVE_INFINITY);
            for (double rho : F64.bandRatios()) {
                double[][] x = standardisedByHand(new Tensor[]{trA, trB}, new Tensor[]{teA, teB}, new double[]{rho / (1 + rho), 1 / (1 + rho)});
                RidgeCVPredict.Result r = trialLevel(x, n, rows, y, F64);
                double[] score = r.bestScore(F64.alphas()), pv = r.predictions().toDoubleArray();
                for (int j = 0; j < t; j++) {
                    if (score[j] <= best[j]) continue;
                    best[j] = score[j];
                    alpha[j] = r.alpha()[j];
                    ratio[j] = rho;
                    pred[j] = new double[nTe];
                    for (int i = 0; i < nTe; i++) pred[j][i] = pv[i * t + j];
                }
            }
            assertArrayEquals(ratio, fit.ratio(), 0, "ratios, p_B=" + pb);
            assertArrayEquals(alpha, fit.alpha(), 0, "alphas, p_B=" + pb);
            assertClose(best, fit.cvR2(), 1e-9, "CV R², p_B=" + pb);
            double[] got = fit.predictions().toDoubleArray();
            for (int j = 0; j < t; j++) for (int i = 0; i < nTe; i++) {
                assertEquals(pred[j][i], got[i * t + j], 1e-6 * (1 + Math.abs(pred[j][i])), "prediction " + i + "," + j);
            }
        }
    }

    @Test
    void gramAccumulatedOverColumnBlocksEqualsTheWholeProduct() throws Exception {
        SplittableRandom rng = new SplittableRandom(3);
        Tensor train = gaussian(rng, 12, 23, 1), test = gaussian(rng, 4, 23, 1);
        double[][] x = standardisedByHand(new Tensor[]{train}, new Tensor[]{test}, new double[]{1});
        Tensor g = EncodingModel.gram(CpuDenseLinAlg.best(), mapped(train, "g"), mapped(test, "gt"), DType.F64, 7); // blocks of 7, 7, 7, 2
        for (int a = 0; a < 16; a++) for (int b = 0; b < 16; b++) {
            double s = 0;
            for (int k = 0; k < 23; k++) s += x[a][k] * x[b][k];
            assertEquals(s, g.getDouble(a * 16L + b), 1e-12, "G[" + a + "," + b + "]");
        }
    }

    @Test
    void mismatchedBandsAreNamed() {
        SplittableRandom rng = new SplittableRandom(4);
        int[] rows = trials(rng, 10);
        Tensor y = gaussian(rng, rows.length, 2, 0);
        var e = assertThrows(IllegalArgumentException.class, () -> EncodingModel.fitBanded(CpuDenseLinAlg.best(), gaussian(rng, 10, 3, 0),
                gaussian(rng, 9, 4, 0), rows, y, gaussian(rng, 3, 3, 0), gaussian(rng, 3, 4, 0), F64, s -> {}));
        assertTrue(e.getMessage().startsWith("band 1: train f32[9, 4]"), e.getMessage());
    }
}
