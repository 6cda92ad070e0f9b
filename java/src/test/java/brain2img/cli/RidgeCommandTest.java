package brain2img.cli;

import brain2img.io.Npy;
import brain2img.io.SafeTensors;
import brain2img.ridge.RidgeModel;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RidgeCommandTest {
    @TempDir
    Path dir;

    private record Run(int code, String err) {}

    private static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, err.toString());
    }

    /** X (n,p) f32, Y = X·B + noise (n,t) f64, groups of 2 repetitions. */
    private void writeProblem(int n, int p, int t) throws Exception {
        Random r = new Random(5);
        float[] x = new float[n * p];
        double[] y = new double[n * t];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() + 1);
        double[] b = new double[p * t];
        for (int i = 0; i < b.length; i++) b[i] = r.nextGaussian();
        for (int i = 0; i < n; i++) for (int j = 0; j < t; j++) {
            double s = 0.5 * r.nextGaussian() * (1 + j);
            for (int c = 0; c < p; c++) s += x[i * p + c] * b[c * t + j];
            y[i * t + j] = s;
        }
        long[] g = new long[n];
        for (int i = 0; i < n; i++) g[i] = 100 - i / 2;
        Npy.write(dir.resolve("X.npy"), Tensor.of(x, n, p));
        Npy.write(dir.resolve("Y.npy"), Tensor.of(y, n, t));
        Tensor gt = Tensor.allocateHeap(DType.I64, n);
        for (int i = 0; i < n; i++) gt.segment().setAtIndex(Tensor.I64, i, g[i]);
        Npy.write(dir.resolve("g.npy"), gt);
    }

    @Test
    void fitPredictScoreRoundTrip() throws Exception {
        int n = 40, p = 6, t = 4;
        writeProblem(n, p, t);
        String x = dir.resolve("X.npy").toString(), y = dir.resolve("Y.npy").toString();
        String model = dir.resolve("m.safetensors").toString();
        Run fit = run("ridge", "fit", "--x", x, "--y", y, "--alphas", "1e-2,1e-1,1,10,100", "--folds", "4",
                "--groups", dir.resolve("g.npy").toString(), "--standardize", "--dtype", "f64", "--device", "cpu", "--out", model);
        assertEquals(0, fit.code, fit.err);
        assertTrue(fit.err.contains("fold 4/4"), "progress lines expected on stderr: " + fit.err);

        try (SafeTensors st = SafeTensors.open(Path.of(model))) {
            assertEquals(java.util.List.of("coef", "intercept", "alpha", "cv_score", "x_mean", "x_scale"), st.names());
            assertArrayEquals(new long[]{p, t}, st.get("coef").shape());
            assertArrayEquals(new long[]{5, t}, st.get("cv_score").shape());
            assertEquals("per-target", st.metadata().get("alpha_mode"));
            assertEquals("true", st.metadata().get("standardize"));
            assertEquals("f64", st.metadata().get("dtype"));
            assertEquals("20", st.metadata().get("groups"));
            assertEquals("primal", st.metadata().get("solver_refit"));
            assertTrue(st.metadata().get("linalg").length() > 3);
        }

        String out = dir.resolve("Yhat.npy").toString();
        Run pred = run("ridge", "predict", "--model", model, "--x", x, "--out", out);
        assertEquals(0, pred.code, pred.err);
        Tensor yhat = Npy.read(Path.of(out));
        Tensor xt = Npy.read(Path.of(x));
        RidgeModel m = RidgeModel.load(Path.of(model));
        // the file's predictions follow predict = (X − x_mean)/x_scale · coef + intercept
        for (int i = 0; i < n; i++) for (int j = 0; j < t; j++) {
            double s = m.intercept().getDouble(j);
            for (int c = 0; c < p; c++) {
                s += (xt.getDouble((long) i * p + c) - m.xMean().getDouble(c)) / m.xScale().getDouble(c) * m.coef().getDouble((long) c * t + j);
            }
            assertEquals(s, yhat.getDouble((long) i * t + j), 1e-9 * Math.max(1, Math.abs(s)));
        }

        String scores = dir.resolve("scores.npy").toString();
        Run score = run("ridge", "score", "--model", model, "--x", x, "--y", y, "--out", scores);
        assertEquals(0, score.code, score.err);
        Tensor sc = Npy.read(Path.of(scores));
        assertArrayEquals(new long[]{2, t}, sc.shape());
        Tensor yt = Npy.read(Path.of(y));
        for (int j = 0; j < t; j++) {
            double my = 0, mp = 0;
            for (int i = 0; i < n; i++) { my += yt.getDouble((long) i * t + j) / n; mp += yhat.getDouble((long) i * t + j) / n; }
            double sse = 0, sst = 0, spp = 0, syp = 0;
            for (int i = 0; i < n; i++) {
                double a = yt.getDouble((long) i * t + j), b = yhat.getDouble((long) i * t + j);
                sse += (a - b) * (a - b);
                sst += (a - my) * (a - my);
                spp += (b - mp) * (b - mp);
                syp += (a - my) * (b - mp);
            }
            assertEquals(1 - sse / sst, sc.getDouble(j), 1e-10, "R² of target " + j);
            assertEquals(syp / Math.sqrt(sst * spp), sc.getDouble(t + j), 1e-10, "r of target " + j);
            assertTrue(sc.getDouble(j) > 0.3, "an in-sample fit of a linear target should score well");
        }
    }

    @Test
    void benchRunsAndTheNaiveReferenceChoosesTheSameAlphas() {
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        java.io.PrintStream old = System.out;
        System.setOut(new java.io.PrintStream(buf, true));
        Run r;
        try {
            r = run("ridge", "bench", "--n", "120", "--p", "15", "--t", "24", "--alphas", "5", "--folds", "3", "--device", "cpu");
        } finally {
            System.setOut(old);
        }
        String out = buf.toString();
        assertEquals(0, r.code, r.err + out);
        assertTrue(out.contains("ridge fit: ") && out.contains("GFLOP/s") && out.contains("reference (Cholesky per fold and alpha)"), out);
        assertTrue(out.contains("chosen alphas agree on 24 of 24 targets"), out);
    }

    @Test
    void badInputsAreUsageErrorsNamingTheArgument() throws Exception {
        writeProblem(12, 3, 2);
        String x = dir.resolve("X.npy").toString(), y = dir.resolve("Y.npy").toString(), out = dir.resolve("m.safetensors").toString();
        Run r = run("ridge", "fit", "--x", x, "--y", y, "--alphas", "1,-1", "--out", out);
        assertEquals(2, r.code);
        assertTrue(r.err.contains("--alphas: every alpha must be finite and > 0, got -1.0"), r.err);

        r = run("ridge", "fit", "--x", x, "--y", y, "--alphas", "1", "--folds", "7", "--groups", dir.resolve("g.npy").toString(), "--out", out);
        assertEquals(2, r.code);
        assertTrue(r.err.contains("6 distinct groups cannot make 7 folds"), r.err);

        Npy.write(dir.resolve("Y9.npy"), Tensor.zeros(9, 2));
        r = run("ridge", "fit", "--x", x, "--y", dir.resolve("Y9.npy").toString(), "--alphas", "1", "--out", out);
        assertEquals(2, r.code);
        assertTrue(r.err.contains("has 12 rows (samples) but") && r.err.contains("Y9.npy has 9"), r.err);

        Tensor bad = Npy.read(Path.of(x));
        bad.setFloat(4, Float.NaN);
        Npy.write(dir.resolve("Xnan.npy"), bad);
        r = run("ridge", "fit", "--x", dir.resolve("Xnan.npy").toString(), "--y", y, "--alphas", "1", "--out", out);
        assertEquals(2, r.code);
        assertTrue(r.err.contains("Xnan.npy: NaN at row 1, column 1"), r.err);

        r = run("ridge", "fit", "--x", x, "--y", y, "--alphas", "1", "--alpha-mode", "both", "--out", out);
        assertEquals(2, r.code);
        assertTrue(r.err.contains("--alpha-mode"), r.err);
    }

    @Test
    void predictAndScoreCheckInputsAgainstTheModel() throws Exception {
        writeProblem(12, 3, 2);
        String x = dir.resolve("X.npy").toString(), y = dir.resolve("Y.npy").toString(), model = dir.resolve("m.safetensors").toString();
        assertEquals(0, run("ridge", "fit", "--x", x, "--y", y, "--alphas", "1", "--folds", "3", "--device", "cpu", "--out", model).code);

        Npy.write(dir.resolve("X4.npy"), Tensor.zeros(12, 4));
        Run r = run("ridge", "predict", "--model", model, "--x", dir.resolve("X4.npy").toString(), "--out", dir.resolve("p.npy").toString());
        assertEquals(2, r.code);
        assertTrue(r.err.contains("X4.npy has 4 features but " + model + " was fitted on 3"), r.err);

        Tensor ints = Tensor.allocateHeap(DType.I64, 12, 3);
        Npy.write(dir.resolve("Xint.npy"), ints);
        r = run("ridge", "score", "--model", model, "--x", dir.resolve("Xint.npy").toString(), "--y", y);
        assertEquals(2, r.code);
        assertTrue(r.err.contains("Xint.npy: expected f32 or f64 values, got i64[12, 3]"), r.err);

        Npy.write(dir.resolve("Y3.npy"), Tensor.zeros(12, 3));
        r = run("ridge", "score", "--model", model, "--x", x, "--y", dir.resolve("Y3.npy").toString());
        assertEquals(2, r.code);
        assertTrue(r.err.contains("Y3.npy is f32[12, 3] but needs (12, 2) for " + x + " and " + model), r.err);
    }
}
