package brain2img.ridge;

import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RidgeCVTest {
    static final double[] ALPHAS = {1e-1, 1, 10, 100, 1e3, 1e4};

    /** A problem: n samples, p features, t targets; groups = repetitions per image (1 = none). */
    record Case(String name, int n, int p, int t, int folds, int reps, boolean perTarget, boolean standardize,
                boolean intercept, RidgeOptions.Solver solver, int block) {
        @Override
        public String toString() { return name; }
    }

    static Stream<Arguments> cases() {
        List<Case> cs = List.of(
                new Case("n>p primal", 60, 12, 9, 5, 1, true, false, true, RidgeOptions.Solver.AUTO, 0),
                new Case("n<p kernel", 30, 50, 7, 5, 1, true, false, true, RidgeOptions.Solver.AUTO, 0),
                new Case("grouped, standardised", 48, 10, 6, 4, 3, true, true, true, RidgeOptions.Solver.AUTO, 0),
                new Case("grouped n<p, standardised", 36, 45, 5, 3, 2, true, true, true, RidgeOptions.Solver.AUTO, 0),
                new Case("no intercept", 50, 9, 6, 5, 1, true, false, false, RidgeOptions.Solver.AUTO, 0),
                new Case("no intercept, standardised, n<p", 28, 40, 6, 4, 1, true, true, false, RidgeOptions.Solver.AUTO, 0),
                new Case("shared alpha", 45, 11, 8, 5, 1, false, false, true, RidgeOptions.Solver.AUTO, 0),
                new Case("shared alpha, n<p, standardised", 30, 42, 8, 5, 1, false, true, true, RidgeOptions.Solver.AUTO, 0),
                new Case("kernel forced with n>p", 40, 8, 5, 4, 1, true, true, true, RidgeOptions.Solver.KERNEL, 0),
                new Case("primal forced with n<p", 26, 35, 5, 3, 1, true, false, true, RidgeOptions.Solver.PRIMAL, 0),
                new Case("target blocks of 2", 40, 10, 7, 5, 1, true, true, true, RidgeOptions.Solver.AUTO, 2));
        List<Arguments> out = new ArrayList<>();
        for (Case c : cs) for (DType dt : new DType[]{DType.F64, DType.F32}) out.add(Arguments.of(c, dt));
        return out.stream();
    }

    /**
     * X with column offsets and scales (so centring and standardising matter); Y = X·B + noise with the noise
     * growing over the targets, so different targets want different alphas.
     */
    static double[][][] problem(int n, int p, int t, long seed) {
        Random r = new Random(seed);
        double[][] x = new double[n][p], y = new double[n][t], b = new double[p][t];
        double[] off = new double[p], sc = new double[p];
        for (int c = 0; c < p; c++) { off[c] = 3 * r.nextGaussian(); sc[c] = Math.exp(r.nextGaussian()); }
        // values are rounded to f32 so that f32 and f64 input tensors hold exactly what the reference sees
        for (int i = 0; i < n; i++) for (int c = 0; c < p; c++) x[i][c] = (float) (off[c] + sc[c] * r.nextGaussian());
        for (int c = 0; c < p; c++) for (int j = 0; j < t; j++) b[c][j] = r.nextGaussian() / sc[c];
        for (int i = 0; i < n; i++) for (int j = 0; j < t; j++) {
            double s = 2.0 * j - 1;
            for (int c = 0; c < p; c++) s += x[i][c] * b[c][j];
            y[i][j] = (float) (s + Math.pow(10, 3.0 * j / Math.max(1, t - 1) - 1.5) * Math.sqrt(p) * r.nextGaussian());
        }
        return new double[][][]{x, y};
    }

    static Tensor tensor(double[][] m, DType dt) {
        int rows = m.length, cols = m[0].length;
        double[] d = new double[rows * cols];
        for (int i = 0; i < rows; i++) System.arraycopy(m[i], 0, d, i * cols, cols);
        return Tensor.of(d, rows, cols).to(dt);
    }

    /** Group ids: `reps` consecutive-ish repetitions of each image, ids scrambled so first appearance ≠ sorted. */
    static int[] groups(int n, int reps, long seed) {
        if (reps <= 1) return null;
        int[] g = new int[n];
        Random r = new Random(seed);
        int images = n / reps;
        int[] ids = new int[images];
        for (int i = 0; i < images; i++) ids[i] = 1000 - 7 * i;
        for (int i = 0; i < n; i++) g[i] = ids[Math.min(images - 1, (i + (r.nextInt(3) == 0 ? 1 : 0)) / reps)];
        return g;
    }

    static double relErr(double[] ref, Tensor got) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = got.getDouble(i) - ref[i];
            num += d * d;
            den += ref[i] * ref[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-300));
    }

    static double[] flat(double[][] m) {
        int c = m[0].length;
        double[] d = new double[m.length * c];
        for (int i = 0; i < m.length; i++) System.arraycopy(m[i], 0, d, i * c, c);
        return d;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void matchesFloat64ClosedForm(Case c, DType dt) {
        double[][][] xy = problem(c.n, c.p, c.t, c.name.hashCode());
        int[] g = groups(c.n, c.reps, 7);
        RidgeOptions opt = new RidgeOptions(ALPHAS, c.folds, g, c.perTarget, c.standardize, c.intercept,
                dt == DType.F64, c.solver);
        RidgeModel m = RidgeCV.fit(new CpuDenseLinAlg(), tensor(xy[0], DType.F64), tensor(xy[1], DType.F32),
                opt, null, c.block);
        RidgeReference ref = RidgeReference.fit(xy[0], xy[1], ALPHAS, c.folds, g, c.perTarget, c.standardize, c.intercept);

        boolean f64 = dt == DType.F64;
        double tol = f64 ? 1e-8 : 1e-3;
        assertEquals(dt, m.coef().dtype());
        assertArrayEquals(new long[]{c.p, c.t}, m.coef().shape());
        assertArrayEquals(new long[]{ALPHAS.length, c.t}, m.cvScore().shape());
        // the chosen alpha must equal the reference wherever the reference's choice is not a near-tie
        double clear = f64 ? 1e-9 : 1e-4;
        int decided = 0;
        for (int j = 0; j < c.t; j++) {
            if (ref.margin[j] <= clear) continue;
            decided++;
            assertEquals(ref.alpha[j], m.alpha().getDouble(j), "alpha of target " + j);
        }
        assertTrue(decided >= c.t - 1, "only " + decided + " of " + c.t + " targets have a clear reference choice");
        if (c.perTarget) {
            long distinct = java.util.Arrays.stream(ref.alpha).distinct().count();
            assertTrue(distinct >= 2, "the problem should make targets choose different alphas, got " + distinct);
        }
        double eCv = relErr(flat(ref.cvScore), m.cvScore());
        assertTrue(eCv < tol, "cv_score relative error " + eCv);
        // coefficients: against the reference refit with the same alphas (identical to the reference's own
        // choice wherever that is clear, as asserted above)
        ref.refit(xy[0], xy[1], m.alpha().toDoubleArray(), c.standardize, c.intercept);
        double eW = relErr(flat(ref.coef), m.coef());
        assertTrue(eW < tol, "coef relative error " + eW + " > " + tol);
        if (c.intercept) assertTrue(relErr(ref.intercept, m.intercept()) < tol, "intercept");
        else for (int j = 0; j < c.t; j++) assertEquals(0, m.intercept().getDouble(j));
        System.out.printf("%s %s: %d/%d clear alpha choices, coef rel err %.1e, cv_score rel err %.1e%n",
                c, dt.lower(), decided, c.t, eW, eCv);
        assertTrue(relErr(ref.xMean, m.xMean()) < 1e-6 || !c.intercept, "x_mean");
        assertTrue(relErr(ref.xScale, m.xScale()) < 1e-6, "x_scale");
        if (!c.perTarget) for (int j = 1; j < c.t; j++) assertEquals(m.alpha().getDouble(0), m.alpha().getDouble(j));
    }

    @Test
    void predictionsFollowTheStoredFormula() {
        double[][][] xy = problem(40, 6, 3, 11);
        RidgeModel m = RidgeCV.fit(new CpuDenseLinAlg(), tensor(xy[0], DType.F64), tensor(xy[1], DType.F64),
                RidgeOptions.defaults(ALPHAS).withF64(true).withStandardize(true), null, 0);
        Tensor pred = m.predict(tensor(xy[0], DType.F32));
        for (int i = 0; i < 40; i++) for (int j = 0; j < 3; j++) {
            double s = m.intercept().getDouble(j);
            for (int c = 0; c < 6; c++) {
                s += (xy[0][i][c] - m.xMean().getDouble(c)) / m.xScale().getDouble(c) * m.coef().getDouble((long) c * 3 + j);
            }
            assertEquals(s, pred.getDouble((long) i * 3 + j), 1e-9 * Math.max(1, Math.abs(s)));
        }
    }

    @Test
    void tiesGoToTheLargerAlpha() {
        double[] alphas = {10, 1, 100, 0.1};
        double[][] score = {{0.5, 0.2}, {0.5, 0.3}, {0.4, 0.3}, {0.5, 0.1}};
        assertArrayEquals(new double[]{10, 100}, RidgeCV.choose(alphas, score, true));
        // shared: means 0.35, 0.4, 0.35, 0.3 → alpha 1
        assertArrayEquals(new double[]{1, 1}, RidgeCV.choose(alphas, score, false));
        double[][] allTied = {{0.5}, {0.5}, {0.5}, {0.5}};
        assertArrayEquals(new double[]{100}, RidgeCV.choose(alphas, allTied, true));
    }

    @Test
    void foldsAreNumpyArraySplit() {
        assertArrayEquals(new int[]{0, 0, 0, 0, 1, 1, 1, 2, 2, 2}, Folds.assign(10, 3, null));
        assertArrayEquals(new int[]{0, 0, 1, 1, 2, 2, 3, 4}, Folds.assign(8, 5, null));
        // groups in order of first appearance: 5, 2, 9, 7, 1 → parts {5, 2}, {9, 7}, {1}
        assertArrayEquals(new int[]{0, 0, 0, 1, 0, 1, 1, 1, 2}, Folds.assign(9, 3, new int[]{5, 5, 2, 9, 2, 7, 9, 7, 1}));
        for (int n = 5; n < 40; n += 3) for (int k = 2; k <= 5; k++) {
            assertArrayEquals(RidgeReference.folds(n, k, null), Folds.assign(n, k, null), n + " into " + k);
        }
    }

    @Test
    void badInputsGiveClearErrors() {
        Tensor x = tensor(problem(10, 3, 2, 1)[0], DType.F32), y = tensor(problem(10, 3, 2, 1)[1], DType.F32);
        CpuDenseLinAlg la = new CpuDenseLinAlg();
        var e = assertThrows(IllegalArgumentException.class, () -> Folds.assign(6, 4, new int[]{1, 1, 2, 2, 3, 3}));
        assertTrue(e.getMessage().contains("3 distinct groups cannot make 4 folds"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RidgeOptions.defaults());
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RidgeOptions.defaults(1, 0));
        assertTrue(e.getMessage().contains("> 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RidgeOptions.defaults(1, -2));
        assertTrue(e.getMessage().contains("> 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> RidgeCV.fit(la, x, y.slice(0, 9), RidgeOptions.defaults(1), null, 0));
        assertTrue(e.getMessage().contains("10 rows") && e.getMessage().contains("9"), e.getMessage());
        Tensor bad = x.copy();
        bad.setFloat(7, Float.NaN);
        e = assertThrows(IllegalArgumentException.class, () -> RidgeCV.fit(la, bad, y, RidgeOptions.defaults(1), null, 0));
        assertTrue(e.getMessage().contains("x: NaN at row 2, column 1"), e.getMessage());
        Tensor badY = y.copy();
        badY.setFloat(3, Float.POSITIVE_INFINITY);
        e = assertThrows(IllegalArgumentException.class, () -> RidgeCV.fit(la, x, badY, RidgeOptions.defaults(1), null, 0));
        assertTrue(e.getMessage().startsWith("y: Infinity at row 1, column 1"), e.getMessage());
    }
}
