package brain2img.ridge;

import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** RidgeCVPredict gives exactly what RidgeCV's model predicts, in both solver regimes, without forming coefficients. */
class RidgeCVPredictTest {
    private static Tensor random(SplittableRandom rng, int n, int m) {
        double[] v = new double[n * m];
        for (int i = 0; i < v.length; i++) v[i] = rng.nextGaussian();
        return Tensor.of(v, n, m);
    }

    @Test
    void predictionsEqualFitThenPredict() {
        SplittableRandom rng = new SplittableRandom(11);
        for (int p : new int[]{12, 90}) { // primal (p < n) and kernel (p > n)
            int n = 60, t = 7, nTe = 9;
            Tensor x = random(rng, n, p), w = random(rng, p, t), xTest = random(rng, nTe, p);
            double[] y = new double[n * t];
            double[] xv = x.toDoubleArray(), wv = w.toDoubleArray();
            for (int i = 0; i < n; i++) for (int j = 0; j < t; j++) {
                double s = 0.5 * rng.nextGaussian() * (j + 1);
                for (int k = 0; k < p; k++) s += xv[i * p + k] * wv[k * t + j];
                y[i * t + j] = s + 3;
            }
            int[] groups = new int[n];
            for (int i = 0; i < n; i++) groups[i] = i / 3;
            RidgeOptions opt = RidgeOptions.defaults(0.1, 1, 10, 100, 1000).withF64(true).withGroups(groups).withStandardize(true);
            Tensor yt = Tensor.of(y, n, t);
            RidgeModel m = RidgeCV.fit(CpuDenseLinAlg.best(), x, yt, opt, null, 0);
            RidgeCVPredict.Result r = RidgeCVPredict.fit(CpuDenseLinAlg.best(), x, yt, xTest, opt, null);
            assertArrayEquals(m.alpha().toDoubleArray(), r.alpha(), 0, "alphas, p=" + p);
            double[] ref = m.predict(xTest).toDoubleArray(), got = r.predictions().toDoubleArray();
            double err = 0, norm = 0;
            for (int i = 0; i < ref.length; i++) {
                err = Math.max(err, Math.abs(ref[i] - got[i]));
                norm = Math.max(norm, Math.abs(ref[i]));
            }
            assertTrue(err <= 1e-10 * norm, "p=" + p + ": max difference " + err);
            double[][] cv = r.cvScore();
            double[] cvRef = m.cvScore().toDoubleArray();
            for (int a = 0; a < cv.length; a++) for (int j = 0; j < t; j++) assertTrue(Math.abs(cv[a][j] - cvRef[a * t + j]) < 1e-12);
        }
    }
}
