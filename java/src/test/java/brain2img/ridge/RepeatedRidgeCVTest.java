package brain2img.ridge;

import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RepeatedRidgeCV on the distinct images equals RidgeCVPredict on the trials (each trial a copy of its image's
 * features, CV grouped by image): same alphas, same cross-validated R², same test predictions, with uneven
 * repetition counts, trials in shuffled order, an image without trials and large response offsets, in both
 * designs (rows and Gram) and both regimes (features fewer and more than the images).
 */
class RepeatedRidgeCVTest {
    private static final double[] ALPHAS = {0.01, 0.1, 1, 10, 100, 1000};

    /** A repeated-trials problem: image features, the trials' image rows, their responses. */
    private record Problem(Tensor x, int train, int[] image, Tensor y) {}

    private static Problem problem(long seed, int n, int nTe, int p, int t) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[] x = new double[(n + nTe) * p], w = new double[p * t];
        for (int i = 0; i < x.length; i++) x[i] = rng.nextGaussian();
        for (int i = 0; i < w.length; i++) w[i] = rng.nextGaussian() / Math.sqrt(p);
        List<Integer> trials = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int reps = i == 3 ? 0 : 1 + rng.nextInt(4); // image 3 is never shown
            for (int r = 0; r < reps; r++) trials.add(i);
        }
        Collections.shuffle(trials, new Random(seed));
        int[] image = trials.stream().mapToInt(Integer::intValue).toArray();
        double[] y = new double[image.length * t];
        for (int tr = 0; tr < image.length; tr++) {
            for (int j = 0; j < t; j++) {
                double s = 100 + 7 * j + 0.8 * (j + 1) * rng.nextGaussian();
                for (int k = 0; k < p; k++) s += x[image[tr] * p + k] * w[k * t + j];
                y[tr * t + j] = s;
            }
        }
        return new Problem(Tensor.of(x, n + nTe, p), n, image, Tensor.of(y, image.length, t));
    }

    /** The trial-level reference: RidgeCVPredict on the expanded rows, groups = images. */
    private static RidgeCVPredict.Result reference(Problem pr) {
        int p = pr.x.dimInt(1), nTe = pr.x.dimInt(0) - pr.train;
        double[] x = pr.x.toDoubleArray(), xt = new double[pr.image.length * p];
        for (int tr = 0; tr < pr.image.length; tr++) System.arraycopy(x, pr.image[tr] * p, xt, tr * p, p);
        Tensor test = Tensor.of(java.util.Arrays.copyOfRange(x, pr.train * p, x.length), nTe, p);
        RidgeOptions opt = RidgeOptions.defaults(ALPHAS).withF64(true).withGroups(pr.image);
        return RidgeCVPredict.fit(CpuDenseLinAlg.best(), Tensor.of(xt, pr.image.length, p), pr.y, test, opt, null);
    }

    /** G = X Xᵀ by plain loops. */
    private static Tensor gram(Tensor x) {
        int n = x.dimInt(0), p = x.dimInt(1);
        double[] v = x.toDoubleArray(), g = new double[n * n];
        for (int a = 0; a < n; a++) for (int b = 0; b < n; b++) {
            double s = 0;
            for (int k = 0; k < p; k++) s += v[a * p + k] * v[b * p + k];
            g[a * n + b] = s;
        }
        return Tensor.of(g, n, n);
    }

    private static void assertSame(RidgeCVPredict.Result ref, RidgeCVPredict.Result got, double tol, String what) {
        assertArrayEquals(ref.alpha(), got.alpha(), 0, what + ": alphas");
        double[][] a = ref.cvScore(), b = got.cvScore();
        for (int i = 0; i < a.length; i++) assertArrayEquals(a[i], b[i], tol, what + ": CV R² at alpha " + ALPHAS[i]);
        double[] pr = ref.predictions().toDoubleArray(), pg = got.predictions().toDoubleArray();
        for (int i = 0; i < pr.length; i++) assertTrue(Math.abs(pr[i] - pg[i]) <= tol * Math.abs(pr[i]), what + ": prediction " + i + " " + pg[i] + " vs " + pr[i]);
    }

    @Test
    void imageLevelFitEqualsTheTrialLevelFit() {
        for (int p : new int[]{8, 120}) { // fewer and more features than the ~36 training images of a fold
            Problem pr = problem(31 + p, 45, 6, p, 5);
            RidgeCVPredict.Result ref = reference(pr);
            var la = CpuDenseLinAlg.best();
            RidgeCVPredict.Result rows = RepeatedRidgeCV.fit(la, new RepeatedRidgeCV.Rows(pr.x, pr.train), pr.image, pr.y, ALPHAS, 5, true, null);
            RidgeCVPredict.Result gram = RepeatedRidgeCV.fit(la, new RepeatedRidgeCV.Gram(gram(pr.x), pr.train), pr.image, pr.y, ALPHAS, 5, true, null);
            assertSame(ref, rows, 1e-9, "rows, p=" + p);
            assertSame(ref, gram, 1e-9, "gram, p=" + p);
        }
    }

    @Test
    void float32StaysCloseToTheFloat64Fit() {
        Problem pr = problem(5, 60, 8, 150, 4);
        var la = CpuDenseLinAlg.best();
        RidgeCVPredict.Result f64 = RepeatedRidgeCV.fit(la, new RepeatedRidgeCV.Gram(gram(pr.x), pr.train), pr.image, pr.y, ALPHAS, 5, true, null);
        RidgeCVPredict.Result f32 = RepeatedRidgeCV.fit(la, new RepeatedRidgeCV.Gram(gram(pr.x).to(DType.F32), pr.train), pr.image, pr.y, ALPHAS, 5, false, null);
        double[] a = f64.predictions().toDoubleArray(), b = f32.predictions().toDoubleArray();
        for (int i = 0; i < a.length; i++) assertTrue(Math.abs(a[i] - b[i]) < 1e-4 * Math.abs(a[i]), "f32 prediction " + b[i] + " vs f64 " + a[i]);
    }

    @Test
    void badTrialRowsAreNamed() {
        Problem pr = problem(2, 20, 4, 5, 2);
        int[] bad = pr.image.clone();
        bad[0] = 20;
        var e = assertThrows(IllegalArgumentException.class, () -> RepeatedRidgeCV.fit(CpuDenseLinAlg.best(),
                new RepeatedRidgeCV.Rows(pr.x, pr.train), bad, pr.y, ALPHAS, 5, true, null));
        assertTrue(e.getMessage().contains("trial image row 20"), e.getMessage());
    }
}
