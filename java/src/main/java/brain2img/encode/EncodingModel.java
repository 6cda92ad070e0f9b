package brain2img.encode;

import brain2img.ridge.DenseLinAlg;
import brain2img.ridge.RepeatedRidgeCV;
import brain2img.ridge.RidgeCVPredict;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Voxel-wise encoding models: ridge from a feature space (or several, banded) to every voxel, fitted on the training
 * trials, the alpha chosen per voxel by cross-validation grouped by image id, the test images predicted. The trials
 * are never expanded to a trial × feature matrix: {@link RepeatedRidgeCV} solves the same problem on the distinct
 * images, weighted by their trial counts.
 *
 * <p>Features are standardised by the training images (every image once, mean 0, std 1, ddof 0; a constant column
 * stays 0) and each band is divided by √p_band, so every band carries the same total variance whatever its width
 * and one alpha grid suits spaces of 256 and of 80,000 dimensions (ridge on X/√p with α equals ridge on X with α·p).
 *
 * <p>Form: when the features outnumber the smallest fold's training images, the kernel form runs on the Gram
 * matrix of all images (training and test), accumulated over blocks of feature columns ({@link #gram}), so only
 * one block of a (memory-mapped) feature file is on the heap at a time; otherwise the primal form runs on the
 * standardised features (then p × images is at most images², the size of the Gram matrix).
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
     * @param train  (training images, p) features, row i = training image i (a heap or memory-mapped tensor)
     * @param rows   for each training trial, its image's row in {@code train}; also the CV groups
     * @param y      (trials, voxels) responses of the training trials
     * @param test   (test images, p) features
     */
    public static Fit fit(DenseLinAlg la, Tensor train, int[] rows, Tensor y, Tensor test, Options o, Consumer<String> log) {
        Tensor[] tr = {train}, te = {test};
        check(tr, te, rows, y);
        DType dt = o.f64() ? DType.F64 : DType.F32;
        RepeatedRidgeCV.Design d = kernel(train.dimInt(1), rows, o.folds())
                ? new RepeatedRidgeCV.Gram(gram(la, train, test, dt, blockColumns(train, test, dt)), train.dimInt(0))
                : new RepeatedRidgeCV.Rows(standardised(tr, te, new double[]{1}, dt), train.dimInt(0));
        return solve(la, d, rows, y, o, log);
    }

    /** Two bands A and B with a per-voxel band-weight ratio (see the class comment). */
    public static Fit fitBanded(DenseLinAlg la, Tensor trainA, Tensor trainB, int[] rows, Tensor y, Tensor testA, Tensor testB,
                                Options o, Consumer<String> log) {
        Tensor[] tr = {trainA, trainB}, te = {testA, testB};
        check(tr, te, rows, y);
        DType dt = o.f64() ? DType.F64 : DType.F32;
        int nTr = trainA.dimInt(0), t = y.dimInt(1), nTe = testA.dimInt(0);
        boolean kernel = kernel(trainA.dimInt(1) + trainB.dimInt(1), rows, o.folds());
        // the kernel form builds each band's Gram once; every ratio's Gram is their weighted sum
        Tensor gA = kernel ? gram(la, trainA, testA, dt, blockColumns(trainA, testA, dt)) : null;
        Tensor gB = kernel ? gram(la, trainB, testB, dt, blockColumns(trainB, testB, dt)) : null;
        double[] bestScore = new double[t], bestAlpha = new double[t], bestRatio = new double[t];
        Arrays.fill(bestScore, Double.NEGATIVE_INFINITY);
        Tensor pred = Tensor.allocateHeap(DType.F32, nTe, t);
        for (double rho : o.bandRatios()) {
            double[] w = {rho / (1 + rho), 1 / (1 + rho)};
            RepeatedRidgeCV.Design d = kernel ? new RepeatedRidgeCV.Gram(weightedSum(gA, w[0], gB, w[1]), nTr)
                    : new RepeatedRidgeCV.Rows(standardised(tr, te, w, dt), nTr);
            Fit f = solve(la, d, rows, y, o, s -> log.accept(String.format(Locale.ROOT, "ratio %.3g: %s", rho, s)));
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

    private static Fit solve(DenseLinAlg la, RepeatedRidgeCV.Design d, int[] rows, Tensor y, Options o, Consumer<String> log) {
        RidgeCVPredict.Result r = RepeatedRidgeCV.fit(la, d, rows, y, o.alphas(), o.folds(), o.f64(), log);
        return new Fit(r.predictions().to(DType.F32), r.alpha(), r.bestScore(o.alphas()), null);
    }

    /** The kernel form pays when the features outnumber the smallest fold's training images. */
    static boolean kernel(int p, int[] rows, int folds) {
        int images = (int) Arrays.stream(rows).distinct().count();
        return p > images - (images + folds - 1) / folds;
    }

    private static void check(Tensor[] train, Tensor[] test, int[] rows, Tensor y) {
        if (rows.length != y.dim(0)) throw new IllegalArgumentException(rows.length + " trial rows for " + y.dim(0) + " response rows");
        int nTr = train[0].dimInt(0), nTe = test[0].dimInt(0);
        for (int b = 0; b < train.length; b++) {
            if (train[b].dtype() != DType.F32 || test[b].dtype() != DType.F32) {
                throw new IllegalArgumentException("band " + b + ": features must be float32, got " + train[b].dtype() + " / " + test[b].dtype());
            }
            if (train[b].rank() != 2 || train[b].dimInt(0) != nTr || test[b].dimInt(0) != nTe || test[b].dim(1) != train[b].dim(1)) {
                throw new IllegalArgumentException("band " + b + ": train " + train[b].shapeString() + " / test " + test[b].shapeString()
                        + " do not match the other bands' " + nTr + " / " + nTe + " images");
            }
        }
    }

    /**
     * (nTr + nTe, Σp): the training then the test images, each band standardised by its training images' statistics
     * (every image once, however often it was shown), divided by √p_b and multiplied by √weight_b.
     */
    static Tensor standardised(Tensor[] train, Tensor[] test, double[] weight, DType dt) {
        int nTr = train[0].dimInt(0), nTe = test[0].dimInt(0), total = 0;
        for (Tensor b : train) total += b.dimInt(1);
        Tensor out = Tensor.allocateHeap(dt, nTr + nTe, total);
        for (int b = 0, at = 0; b < train.length; at += train[b].dimInt(1), b++) {
            int p = train[b].dimInt(1);
            standardisedColumns(train[b], test[b], 0, p, Math.sqrt(weight[b] / p), out, at);
        }
        return out;
    }

    /**
     * G = X Xᵀ (nTr + nTe, nTr + nTe) of the band standardised and divided by √p as {@link #standardised} does,
     * accumulated over blocks of {@code block} columns: the features are read once, a block at a time, so a
     * memory-mapped feature file is never copied whole.
     */
    static Tensor gram(DenseLinAlg la, Tensor train, Tensor test, DType dt, int block) {
        int n = train.dimInt(0) + test.dimInt(0), p = train.dimInt(1);
        Tensor g = Tensor.allocateHeap(dt, n, n);
        Tensor buf = Tensor.allocateHeap(dt, n, Math.min(block, p));
        for (int c0 = 0; c0 < p; c0 += block) {
            int c1 = Math.min(p, c0 + block), w = c1 - c0;
            Tensor x = w == buf.dimInt(1) ? buf : Tensor.allocateHeap(dt, n, w);
            standardisedColumns(train, test, c0, c1, 1 / Math.sqrt(p), x, 0);
            la.gemm(false, true, n, n, w, 1, x, 0, w, x, 0, w, c0 == 0 ? 0 : 1, g, 0, n);
        }
        return g;
    }

    /** Columns per Gram block: a block of all images stays within {@link #BLOCK_BYTES}. */
    static int blockColumns(Tensor train, Tensor test, DType dt) {
        long perColumn = (long) dt.bytes * (train.dim(0) + test.dim(0));
        return (int) Math.max(1, Math.min(train.dim(1), BLOCK_BYTES / perColumn));
    }

    /** Budget for one block of feature columns while a Gram matrix is accumulated. */
    static final long BLOCK_BYTES = 256L << 20;

    /**
     * Writes columns c0…c1−1 of one band into out (rows = training then test images) at column {@code at}:
     * (x − mean) / sd · scale with mean and sd (ddof 0) over the training images; a constant column becomes 0.
     */
    private static void standardisedColumns(Tensor train, Tensor test, int c0, int c1, double scale, Tensor out, int at) {
        int nTr = train.dimInt(0), nTe = test.dimInt(0), w = c1 - c0, ld = out.dimInt(1);
        double[] mean = new double[w], ss = new double[w];
        float[] row = new float[w];
        for (int i = 0; i < nTr; i++) {
            readRow(train, i, c0, row);
            for (int j = 0; j < w; j++) mean[j] += row[j];
        }
        for (int j = 0; j < w; j++) mean[j] /= nTr;
        for (int i = 0; i < nTr; i++) {
            readRow(train, i, c0, row);
            for (int j = 0; j < w; j++) ss[j] += (row[j] - mean[j]) * (row[j] - mean[j]);
        }
        double[] mult = new double[w];
        for (int j = 0; j < w; j++) {
            double sd = Math.sqrt(ss[j] / nTr);
            mult[j] = sd > 0 ? scale / sd : 0;
        }
        float[] of = out.heapFloats();
        double[] od = out.heapDoubles();
        for (int i = 0; i < nTr + nTe; i++) {
            readRow(i < nTr ? train : test, i < nTr ? i : i - nTr, c0, row);
            int o = i * ld + at;
            if (of != null) for (int j = 0; j < w; j++) of[o + j] = (float) ((row[j] - mean[j]) * mult[j]);
            else for (int j = 0; j < w; j++) od[o + j] = (row[j] - mean[j]) * mult[j];
        }
    }

    /** row[0…] = x[i, c0 … c0 + row.length) of a 2-D float32 tensor on the heap or memory-mapped. */
    private static void readRow(Tensor x, int i, int c0, float[] row) {
        MemorySegment.copy(x.segment(), Tensor.F32, ((long) i * x.dim(1) + c0) * 4, row, 0, row.length);
    }

    /** wa·a + wb·b, element-wise. */
    private static Tensor weightedSum(Tensor a, double wa, Tensor b, double wb) {
        Tensor out = Tensor.allocateHeap(a.dtype(), a.shape());
        for (long i = 0, n = a.numel(); i < n; i++) out.setDouble(i, wa * a.getDouble(i) + wb * b.getDouble(i));
        return out;
    }
}
