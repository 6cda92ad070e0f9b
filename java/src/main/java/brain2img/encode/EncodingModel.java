package brain2img.encode;

import brain2img.ridge.DenseLinAlg;
import brain2img.ridge.RidgeCVPredict;
import brain2img.ridge.RidgeOptions;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;

import java.util.Arrays;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Voxel-wise encoding models: ridge from a feature space (or several, banded) to every voxel, the alpha chosen
 * per voxel by cross-validation grouped by image id, the test images predicted ({@link RidgeCVPredict}).
 *
 * <p>Features are standardised by the training rows (mean 0, std 1, ddof 0; a constant column stays 0) and each
 * band is divided by √p_band, so every band carries the same total variance whatever its width and one alpha grid
 * suits spaces of 256 and of 80,000 dimensions (ridge on X/√p with α equals ridge on X with α·p).
 *
 * <p>Banded ridge (himalaya's BandedRidgeCV, one penalty per band): band b is multiplied by √w_b and ordinary ridge
 * runs on the concatenation, which equals a penalty α/w_b on band b's coefficients. With two bands only the ratio
 * ρ = w_A/w_B matters beyond the overall alpha; it is searched on a grid ({@link Options#bandRatios()}, with
 * w_A = ρ/(1+ρ), w_B = 1/(1+ρ)), and each voxel keeps the (ρ, α) with the best cross-validated R². himalaya
 * searches the band-weight simplex by random sampling, which for two bands is this one-dimensional search.
 */
public final class EncodingModel {
    private EncodingModel() {}

    /**
     * @param alphas     the ridge penalty grid (on the √p-normalised features)
     * @param folds      cross-validation folds, cut over image ids
     * @param bandRatios the band-weight ratios w_A/w_B tried by the two-band model
     * @param f64        compute in float64
     */
    public record Options(double[] alphas, int folds, double[] bandRatios, boolean f64) {
        /** α = 10⁻², 10⁻¹, …, 10⁵; 5 folds; ρ = 1/100, 1/10, 1/3, 1, 3, 10, 100; float32. */
        public static Options defaults() {
            return new Options(new double[]{1e-2, 1e-1, 1, 1e1, 1e2, 1e3, 1e4, 1e5}, 5,
                    new double[]{0.01, 0.1, 1.0 / 3, 1, 3, 10, 100}, false);
        }
    }

    /**
     * @param predictions (nTest, voxels) float32 test predictions
     * @param alpha       chosen alpha per voxel
     * @param cvR2        cross-validated R² per voxel at its chosen alpha (and ratio)
     * @param ratio       chosen band ratio per voxel (banded fits), else null
     */
    public record Fit(Tensor predictions, double[] alpha, double[] cvR2, double[] ratio) {}

    /**
     * One feature space.
     *
     * @param train  (training images, p) features, row i = training image i
     * @param rows   for each training trial, its image's row in {@code train}; also the CV groups
     * @param y      (trials, voxels) responses of the training trials
     * @param test   (test images, p) features
     */
    public static Fit fit(DenseLinAlg la, Tensor train, int[] rows, Tensor y, Tensor test, Options o, Consumer<String> log) {
        return fitBands(la, new Tensor[]{train}, new double[]{1}, rows, y, new Tensor[]{test}, o, log);
    }

    /** Two bands A and B with a per-voxel band-weight ratio (see the class comment). */
    public static Fit fitBanded(DenseLinAlg la, Tensor trainA, Tensor trainB, int[] rows, Tensor y, Tensor testA, Tensor testB,
                                Options o, Consumer<String> log) {
        int t = y.dimInt(1);
        double[] bestScore = new double[t], bestAlpha = new double[t], bestRatio = new double[t];
        Arrays.fill(bestScore, Double.NEGATIVE_INFINITY);
        Tensor pred = Tensor.allocateHeap(DType.F32, testA.dim(0), t);
        for (double rho : o.bandRatios()) {
            double[] w = {rho / (1 + rho), 1 / (1 + rho)};
            Fit f = fitBands(la, new Tensor[]{trainA, trainB}, w, rows, y, new Tensor[]{testA, testB}, o,
                    s -> log.accept(String.format(Locale.ROOT, "ratio %.3g: %s", rho, s)));
            int nTe = testA.dimInt(0);
            for (int j = 0; j < t; j++) {
                if (f.cvR2()[j] <= bestScore[j]) continue;
                bestScore[j] = f.cvR2()[j];
                bestAlpha[j] = f.alpha()[j];
                bestRatio[j] = rho;
                for (int i = 0; i < nTe; i++) pred.setDouble((long) i * t + j, f.predictions().getDouble((long) i * t + j));
            }
        }
        return new Fit(pred, bestAlpha, bestScore, bestRatio);
    }

    private static Fit fitBands(DenseLinAlg la, Tensor[] train, double[] weight, int[] rows, Tensor y, Tensor[] test,
                                Options o, Consumer<String> log) {
        if (rows.length != y.dim(0)) throw new IllegalArgumentException(rows.length + " trial rows for " + y.dim(0) + " response rows");
        Tensor[] x = standardised(train, test, weight, rows);
        RidgeOptions opt = new RidgeOptions(o.alphas(), o.folds(), rows, true, false, true, o.f64(), RidgeOptions.Solver.AUTO);
        RidgeCVPredict.Result r = RidgeCVPredict.fit(la, x[0], y, x[1], opt, log);
        return new Fit(r.predictions().to(DType.F32), r.alpha(), r.bestScore(o.alphas()), null);
    }

    /**
     * {trial rows (trials, Σp), test rows (nTe, Σp)}: each band standardised by its training images' statistics
     * (every image once, however often it was shown), divided by √p_b and multiplied by √weight_b.
     */
    static Tensor[] standardised(Tensor[] train, Tensor[] test, double[] weight, int[] rows) {
        int nTr = train[0].dimInt(0), nTe = test[0].dimInt(0), total = 0;
        for (int b = 0; b < train.length; b++) {
            if (train[b].dimInt(0) != nTr || test[b].dimInt(0) != nTe || test[b].dim(1) != train[b].dim(1)) {
                throw new IllegalArgumentException("band " + b + ": train " + train[b].shapeString() + " / test " + test[b].shapeString()
                        + " do not match the other bands' " + nTr + " / " + nTe + " images");
            }
            total += train[b].dimInt(1);
        }
        float[] xs = new float[Math.multiplyExact(rows.length, total)], ts = new float[Math.multiplyExact(nTe, total)];
        int off = 0;
        for (int b = 0; b < train.length; b++) {
            int p = train[b].dimInt(1);
            float[] tr = train[b].toFloatArray(), te = test[b].toFloatArray();
            double[] mean = new double[p], sd = new double[p];
            for (int i = 0; i < nTr; i++) for (int j = 0; j < p; j++) mean[j] += tr[i * p + j];
            for (int j = 0; j < p; j++) mean[j] /= nTr;
            for (int i = 0; i < nTr; i++) for (int j = 0; j < p; j++) {
                double d = tr[i * p + j] - mean[j];
                sd[j] += d * d;
            }
            double band = Math.sqrt(weight[b] / p);
            float[] scale = new float[p];
            for (int j = 0; j < p; j++) {
                double s = Math.sqrt(sd[j] / nTr);
                scale[j] = s > 0 ? (float) (band / s) : 0f;
            }
            for (int r = 0; r < rows.length; r++) {
                int src = rows[r] * p, dst = r * total + off;
                for (int j = 0; j < p; j++) xs[dst + j] = (float) ((tr[src + j] - mean[j]) * scale[j]);
            }
            for (int i = 0; i < nTe; i++) {
                int src = i * p, dst = i * total + off;
                for (int j = 0; j < p; j++) ts[dst + j] = (float) ((te[src + j] - mean[j]) * scale[j]);
            }
            off += p;
        }
        return new Tensor[]{Tensor.of(xs, rows.length, total), Tensor.of(ts, nTe, total)};
    }
}
