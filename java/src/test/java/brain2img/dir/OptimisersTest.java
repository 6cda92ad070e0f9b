package brain2img.dir;

import brain2img.io.Npy;
import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bounded L-BFGS on problems with known optima, the lab's GD step and the scipy-equivalent blur. */
class OptimisersTest {

    interface Problem {
        double eval(float[] x, float[] g);
    }

    static BoxLbfgs run(Problem p, float[] x0, float[] lo, float[] hi, int iters) {
        BoxLbfgs o = BoxLbfgs.withDefaults(x0, lo, hi, iters);
        while (!o.done()) {
            float[] g = new float[x0.length];
            double f = p.eval(o.point(), g);
            o.tell(f, g);
        }
        return o;
    }

    @Test
    void boundedQuadraticReachesTheClippedOptimum() {
        // f = Σ c_i (x_i − a_i)² is separable: the box optimum is a clipped to [lo, hi]
        int n = 40;
        float[] a = new float[n], c = new float[n], lo = new float[n], hi = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (3 * Math.sin(i));
            c[i] = (float) Math.pow(10, (i % 7) / 2.0); // condition number 1e3
            lo[i] = -1;
            hi[i] = 1.5f;
        }
        BoxLbfgs o = run((x, g) -> {
            double f = 0;
            for (int i = 0; i < n; i++) {
                double opt = Math.max(-1, Math.min(1.5, a[i])) - a[i]; // f* = 0, so ftol is tight
                f += (double) c[i] * ((x[i] - a[i]) * (x[i] - a[i]) - opt * opt);
                g[i] = 2 * c[i] * (x[i] - a[i]);
            }
            return f;
        }, new float[n], lo, hi, 200);
        for (int i = 0; i < n; i++) assertEquals(Math.max(-1, Math.min(1.5, a[i])), o.x()[i], 1e-4, "x[" + i + "] (" + o + ")");
    }

    @Test
    void rosenbrockWithAnActiveBound() {
        // the unconstrained optimum (1,1,...) lies outside x_0 ≤ 0.5: the constrained one is checked by the KKT
        // conditions (x_0 at its bound with an outward gradient, zero gradient in the free variables)
        int n = 6;
        float[] lo = new float[n], hi = new float[n];
        for (int i = 0; i < n; i++) { lo[i] = -2; hi[i] = 2; }
        hi[0] = 0.5f;
        Problem rosen = (x, g) -> {
            double f = 0;
            java.util.Arrays.fill(g, 0);
            for (int i = 0; i + 1 < n; i++) {
                double t = x[i + 1] - (double) x[i] * x[i], u = 1 - x[i];
                f += 100 * t * t + u * u;
                g[i] += (float) (-400 * t * x[i] - 2 * u);
                g[i + 1] += (float) (200 * t);
            }
            return f;
        };
        float[] x0 = new float[n];
        for (int i = 0; i < n; i++) x0[i] = -1.2f;
        BoxLbfgs o = run(rosen, x0, lo, hi, 2000);
        float[] x = o.x(), g = new float[n];
        rosen.eval(x, g);
        assertEquals(0.5, x[0], 1e-4, "x_0 at its bound (" + o + ")");
        assertTrue(g[0] < 0, "the bound is active: the gradient pushes outward");
        for (int i = 1; i < n; i++) assertEquals(0, g[i], 2e-3, "stationary in free variable " + i + " (" + o + ")");
    }

    @Test
    void gdStepFollowsTheLabsFormulas() {
        float[] x = {1, -2, 3}, v = {0.5f, 0, -1}, g = {2, -4, 0};
        float[] lo = {-10, -10, -10}, hi = {10, 10, 2};
        GdSchedule.PIXELS.step(50, 200, x, v, g, lo, hi);
        double lr = 2 + 50 * (1e-10 - 2) / 200, decay = 0.2 + 50 * (1e-10 - 0.2) / 200, mean = 2;
        double[] vRef = {0.9 * 0.5 + lr * 2 / mean, lr * -4 / mean, 0.9 * -1};
        double[] xRef = {(1 - decay) * (1 - vRef[0]), (1 - decay) * (-2 - vRef[1]), Math.min(2, (1 - decay) * (3 - vRef[2]))};
        for (int i = 0; i < 3; i++) {
            assertEquals(vRef[i], v[i], 1e-6);
            assertEquals(xRef[i], x[i], 1e-6);
        }
        float[] z = {1, 1}, vz = {0, 1}, gz = {1, 3};
        GdSchedule.GENERATOR.step(0, 200, z, vz, gz, new float[]{0, 0}, new float[]{5, 5});
        assertEquals(0.99 * (1 - 2 * 0.5), z[0], 1e-6, "generator: lr outside the momentum");
        assertEquals(0, z[1], 1e-6, "clipped at 0");
    }

    @Test
    void blurEqualsScipyGaussianFilter() throws Exception {
        Path tmp = java.nio.file.Files.createTempFile("blur", ".npz");
        try (var in = getClass().getResourceAsStream("blur.npz")) {
            java.nio.file.Files.copy(in, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        Map<String, Tensor> ref = Npy.readNpz(tmp);
        java.nio.file.Files.delete(tmp);
        Tensor input = ref.get("input");
        for (var e : Map.of("s2", 2.0, "s0_5", 0.5, "s1_3", 1.3).entrySet()) {
            float[] v = input.toFloatArray();
            GaussianBlur.apply(v, 0, 3, 11, 17, e.getValue());
            float[] want = ref.get(e.getKey()).toFloatArray();
            for (int i = 0; i < v.length; i++) assertEquals(want[i], v[i], 1e-4, e.getKey() + " at " + i);
        }
    }
}
