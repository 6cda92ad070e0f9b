package brain2img.dir;

import brain2img.ridge.CpuDenseLinAlg;
import brain2img.ridge.DenseLinAlg;
import brain2img.ridge.RidgeCV;
import brain2img.ridge.RidgeModel;
import brain2img.ridge.RidgeOptions;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.LUDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.stat.correlation.PearsonsCorrelation;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The two feature decoders against independent closed forms. */
class DecodersTest {
    static final DenseLinAlg LA = new CpuDenseLinAlg();

    /** Responses (n, p) with column offsets/scales; targets (n, t) = linear in a few voxels + noise, one constant unit. */
    static float[][] problem(int n, int p, int t, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * p], y = new float[n * t];
        for (int i = 0; i < n; i++) for (int j = 0; j < p; j++) x[i * p + j] = (float) (j % 5 + (1 + j % 3) * r.nextGaussian());
        for (int i = 0; i < n; i++) x[i * p + p - 1] = 2f; // a constant voxel: never selected
        for (int u = 0; u < t; u++) {
            int a = (7 * u) % (p - 1), b = (11 * u + 3) % (p - 1);
            for (int i = 0; i < n; i++) {
                y[i * t + u] = u == t - 1 ? 5f : (float) (10 + u + 2 * x[i * p + a] - x[i * p + b] + (0.5 + u) * r.nextGaussian());
            }
        }
        return new float[][]{x, y};
    }

    @Test
    void topVoxelRidgeEqualsTheLiteralFastL2LiRSolveWithItsBiasColumn() {
        int n = 40, p = 30, t = 6, k = 12;
        double alpha = 100;
        float[][] pr = problem(n, p, t, 3);
        TopVoxelDecoder dec = new TopVoxelDecoder(LA, Tensor.of(pr[0], n, p), k, alpha);
        TopVoxelDecoder.Block b = dec.fit(pr[1], t);
        Tensor xNew = Tensor.of(problem(5, p, t, 9)[0], 5, p);
        double[][] st = dec.xStats();
        float[] got = b.predict(TopVoxelDecoder.zscoreWith(xNew, st[0], st[1]), 5, p);

        // reference: z-score (ddof 1), |corr| ranking, [X_I, 1] ridge with the bias penalised too, as FastL2LiR
        double[][] xz = zscore(pr[0], n, p), yz = zscore(pr[1], n, t);
        double[][] xs = rows(pr[0], n, p);
        for (int u = 0; u < t - 1; u++) {
            int uu = u;
            double[] col = IntStream.range(0, n).mapToDouble(i -> yz[i][uu]).toArray();
            double[] c = new double[p];
            for (int v = 0; v < p - 1; v++) {
                int vv = v;
                c[v] = Math.abs(new PearsonsCorrelation().correlation(IntStream.range(0, n).mapToDouble(i -> xs[i][vv]).toArray(), col));
            }
            Integer[] order = IntStream.range(0, p).boxed().sorted(Comparator.comparingDouble((Integer v) -> -c[v])).toArray(Integer[]::new);
            int[] sel = Arrays.stream(order, 0, k).mapToInt(Integer::intValue).toArray();
            assertArrayEquals(Arrays.stream(sel).sorted().toArray(), Arrays.stream(b.voxels(), u * k, (u + 1) * k).sorted().toArray(), "unit " + u + " voxels");
            RealMatrix xi = new Array2DRowRealMatrix(n, k + 1);
            for (int i = 0; i < n; i++) {
                for (int s = 0; s < k; s++) xi.setEntry(i, s, xz[i][sel[s]]);
                xi.setEntry(i, k, 1);
            }
            RealMatrix a = xi.transpose().multiply(xi);
            for (int s = 0; s <= k; s++) a.addToEntry(s, s, alpha);
            double[] w = new LUDecomposition(a).getSolver().solve(xi.transpose().operate(new ArrayRealVector(col))).toArray();
            double[] mean = st[0];
            double ym = IntStream.range(0, n).mapToDouble(i -> pr[1][i * t + uu]).average().orElseThrow();
            double ysd = Math.sqrt(IntStream.range(0, n).mapToDouble(i -> Math.pow(pr[1][i * t + uu] - ym, 2)).sum() / (n - 1));
            for (int i = 0; i < 5; i++) {
                double s = w[k];
                for (int q = 0; q < k; q++) s += w[q] * (xNew.getDouble((long) i * p + sel[q]) - mean[sel[q]]) / st[1][sel[q]];
                double ref = s * ysd + ym;
                assertEquals(ref, got[i * t + u], 1e-5 * Math.abs(ref), "unit " + u + " image " + i);
            }
        }
        for (int i = 0; i < 5; i++) assertEquals(5f, got[i * t + t - 1], "a constant unit predicts its value");
    }

    @Test
    void dualFormRidgeCvEqualsThePrimalRidgeCvOfTheRidgePackage() {
        int n = 48, p = 20, t = 7, reps = 2;
        float[][] pr = problem(n, p - 1, t, 5); // no constant voxel column issue: drop it below
        float[] x = new float[n * (p - 1)];
        System.arraycopy(pr[0], 0, x, 0, x.length);
        for (int i = 0; i < n; i++) x[i * (p - 1) + p - 2] += (float) i / n; // make the last voxel vary
        float[] y = pr[1];
        for (int i = 0; i < n; i++) y[i * t + t - 1] += i % 3; // and the last unit
        int[] groups = new int[n];
        for (int i = 0; i < n; i++) groups[i] = (i * 7 % (n / reps));
        double[] alphas = {0.1, 1, 10, 100, 1000};
        Tensor xt = Tensor.of(x, n, p - 1);
        DualRidgeDecoder dual = new DualRidgeDecoder(LA, xt, alphas, 4, groups);
        double[] chosen = dual.chooseAlphas(y, t);
        RidgeOptions opt = RidgeOptions.defaults(alphas).withFolds(4).withGroups(groups).withStandardize(true).withF64(true);
        RidgeModel primal = RidgeCV.fit(new brain2img.backend.CpuBackend(), xt.to(DType.F64), Tensor.of(y, n, t).to(DType.F64), opt, null);
        assertArrayEquals(primal.alpha().toDoubleArray(), chosen, "alphas chosen per unit");
        assertTrue(Arrays.stream(chosen).distinct().count() > 1, "the problem makes units want different alphas: " + Arrays.toString(chosen));
        Tensor xNew = Tensor.of(problem(6, p - 1, t, 11)[0], 6, p - 1);
        float[] got = dual.predict(dual.project(xNew), y, t, chosen);
        double[] ref = primal.predict(xNew.to(DType.F64)).toDoubleArray();
        for (int i = 0; i < ref.length; i++) assertEquals(ref[i], got[i], 1e-5 * (1 + Math.abs(ref[i])), "prediction " + i);
    }

    @Test
    void rescalingGivesEachImageTheTrainingSpreadAroundItsOwnOffset() {
        Random r = new Random(1);
        int units = 50;
        float[] mean = new float[units], f = new float[units];
        for (int i = 0; i < units; i++) {
            mean[i] = (float) r.nextGaussian();
            f[i] = (float) (mean[i] + 0.3 + 0.1 * r.nextGaussian());
        }
        float[] d0 = new float[units];
        for (int i = 0; i < units; i++) d0[i] = f[i] - mean[i];
        double m0 = IntStream.range(0, units).mapToDouble(i -> d0[i]).average().orElseThrow();
        FeatureRescale.apply(f, mean, 2.5);
        double[] d = IntStream.range(0, units).mapToDouble(i -> f[i] - mean[i]).toArray();
        double m = Arrays.stream(d).average().orElseThrow();
        double sd = Math.sqrt(Arrays.stream(d).map(v -> (v - m) * (v - m)).sum() / (units - 1));
        assertEquals(m0, m, 1e-5, "offset from the training mean kept");
        assertEquals(2.5, sd, 1e-5, "spread matched to σ0");
        // shape kept: the rescaled deviation is an affine map of the decoded one with positive slope
        double slope = (d[1] - d[0]) / (d0[1] - d0[0]);
        for (int i = 2; i < units; i++) assertEquals(d[i] - d[0], slope * (d0[i] - d0[0]), 1e-4);
    }

    @Test
    void channelStdPoolsImagesAndPositions() {
        int imgs = 4, c = 2, pos = 3;
        float[] v = new float[imgs * c * pos];
        Random r = new Random(2);
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian() * (1 + (i / pos) % c);
        FeatureRescale.ChannelStd s = new FeatureRescale.ChannelStd(c, pos);
        s.add(Arrays.copyOfRange(v, 0, v.length), imgs, 0, c * pos);
        double acc = 0;
        for (int ch = 0; ch < c; ch++) {
            int cc = ch;
            double[] all = IntStream.range(0, imgs).flatMap(i -> IntStream.range(0, pos).map(q -> i * c * pos + cc * pos + q)).mapToDouble(j -> v[j]).toArray();
            double m = Arrays.stream(all).average().orElseThrow();
            acc += Math.sqrt(Arrays.stream(all).map(a -> (a - m) * (a - m)).sum() / (all.length - 1));
        }
        assertEquals(acc / c, s.meanStd(), 1e-9);
    }

    @Test
    void topKPicksTheLargestLikeASort() {
        Random r = new Random(4);
        double[] s = new double[1000];
        for (int i = 0; i < s.length; i++) s[i] = Math.floor(r.nextDouble() * 200); // ties
        int[] got = TopVoxelDecoder.topK(s, 37);
        Integer[] order = IntStream.range(0, s.length).boxed().sorted((a, b) -> s[a] != s[b] ? Double.compare(s[b], s[a]) : Integer.compare(a, b)).toArray(Integer[]::new);
        for (int i = 0; i < 37; i++) assertEquals((int) order[i], got[i]);
    }

    static double[][] rows(float[] m, int n, int p) {
        double[][] out = new double[n][p];
        for (int i = 0; i < n; i++) for (int j = 0; j < p; j++) out[i][j] = m[i * p + j];
        return out;
    }

    static double[][] zscore(float[] m, int n, int p) {
        double[][] out = rows(m, n, p);
        for (int j = 0; j < p; j++) {
            double mu = 0, ss = 0;
            for (int i = 0; i < n; i++) mu += out[i][j];
            mu /= n;
            for (int i = 0; i < n; i++) ss += (out[i][j] - mu) * (out[i][j] - mu);
            double sd = Math.sqrt(ss / (n - 1));
            for (int i = 0; i < n; i++) out[i][j] = sd == 0 ? 0 : (out[i][j] - mu) / sd;
        }
        return out;
    }
}
