package brain2img.dir;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Projected L-BFGS for min f(x) subject to lo ≤ x ≤ hi, driven from outside (ask {@link #point()}, evaluate,
 * {@link #tell}) so that a batch of images, each with its own optimiser, is evaluated in one network call.
 *
 * <p>Each iteration: variables at a bound whose gradient pushes outward are held (the active set); the
 * two-loop recursion over the last {@code memory} pairs (s, y) gives the direction on the free variables
 * (scaled by sᵀy/yᵀy); the step backtracks along the projected path P(x + t·d) until the Armijo condition
 * f(x_t) ≤ f(x) + 10⁻⁴·gᵀ(x_t − x) holds (t halves; 20 tries, then the memory is dropped and the step
 * retried along −g; a failed steepest step ends the run). Without curvature pairs the first trial changes no
 * variable by more than 1. Pairs with sᵀy ≤ 10⁻¹⁰·yᵀy are skipped, so the
 * metric stays positive definite without a Wolfe search. Stops after {@code maxIterations} accepted steps,
 * when the projected gradient's largest entry is below {@code pgtol}, or when the relative decrease of f is below
 * {@code ftol} (scipy's defaults: 1e-5 and 2.2e-9). It is simpler than L-BFGS-B's Cauchy point and subspace
 * minimisation; {@code BoxLbfgsTest} checks it on bounded problems with known optima.
 */
public final class BoxLbfgs {
    private static final double ARMIJO = 1e-4;
    private static final int MAX_BACKTRACKS = 20;

    private final float[] lo, hi;
    private final int memory, maxIterations;
    private final double pgtol, ftol;
    private final Deque<float[][]> pairs = new ArrayDeque<>(); // {s, y}, newest last
    private float[] x, g, dir, trial;
    private double f = Double.NaN, step;
    private int iterations, evaluations, backtracks;
    private boolean done, steepest;
    private String stop = "";

    public BoxLbfgs(float[] x0, float[] lo, float[] hi, int memory, int maxIterations, double pgtol, double ftol) {
        if (x0.length != lo.length || x0.length != hi.length) throw new IllegalArgumentException("x0, lo and hi differ in length");
        this.lo = lo;
        this.hi = hi;
        this.memory = memory;
        this.maxIterations = maxIterations;
        this.pgtol = pgtol;
        this.ftol = ftol;
        this.trial = project(x0.clone(), lo, hi);
        this.done = maxIterations <= 0;
    }

    /** scipy's defaults: memory 10, pgtol 1e-5, ftol 2.2e-9. */
    public static BoxLbfgs withDefaults(float[] x0, float[] lo, float[] hi, int maxIterations) {
        return new BoxLbfgs(x0, lo, hi, 10, maxIterations, 1e-5, 2.220446049250313e-9);
    }

    /** The point whose value and gradient are wanted next (do not modify). */
    public float[] point() {
        return trial;
    }

    /** The best accepted point so far (the start point before the first evaluation). */
    public float[] x() {
        return x != null ? x : trial;
    }

    public double value() {
        return f;
    }

    public boolean done() {
        return done;
    }

    public int iterations() {
        return iterations;
    }

    public int evaluations() {
        return evaluations;
    }

    /** Why the run stopped (empty while running). */
    public String stopReason() {
        return stop;
    }

    /** Reports f and ∇f at {@link #point()}. */
    public void tell(double fx, float[] grad) {
        if (done) throw new IllegalStateException("optimiser already finished: " + stop);
        evaluations++;
        if (x == null) { // the start point
            accept(fx, grad, false);
            return;
        }
        double decrease = 0;
        for (int i = 0; i < x.length; i++) decrease += (double) g[i] * (trial[i] - x[i]);
        if (Double.isFinite(fx) && fx <= f + ARMIJO * decrease) {
            accept(fx, grad, true);
        } else if (++backtracks < MAX_BACKTRACKS) {
            step *= 0.5;
            trial = stepFrom(step);
        } else if (!steepest) { // the quasi-Newton direction failed: forget the curvature, go down the gradient
            pairs.clear();
            steepest = true;
            startLineSearch();
        } else {
            finish("line search failed along the projected gradient");
        }
    }

    private void accept(double fx, float[] grad, boolean moved) {
        if (moved) {
            float[] s = new float[x.length], y = new float[x.length];
            double sy = 0, yy = 0;
            for (int i = 0; i < x.length; i++) {
                s[i] = trial[i] - x[i];
                y[i] = grad[i] - g[i];
                sy += (double) s[i] * y[i];
                yy += (double) y[i] * y[i];
            }
            if (sy > 1e-10 * yy) {
                pairs.addLast(new float[][]{s, y});
                if (pairs.size() > memory) pairs.removeFirst();
            }
            iterations++;
        }
        double fPrev = f;
        x = trial;
        g = grad.clone();
        f = fx;
        if (moved && Math.abs(fPrev - f) <= ftol * Math.max(1, Math.max(Math.abs(fPrev), Math.abs(f)))) {
            finish("relative reduction of f below ftol");
            return;
        }
        if (projectedGradientMax() <= pgtol) {
            finish("projected gradient below pgtol");
            return;
        }
        if (iterations >= maxIterations) {
            finish("iteration limit");
            return;
        }
        steepest = false;
        startLineSearch();
    }

    private void startLineSearch() {
        dir = direction();
        double slope = 0;
        for (int i = 0; i < x.length; i++) slope += (double) g[i] * dir[i];
        if (!(slope < 0)) { // not a descent direction (rounding): fall back to the gradient
            pairs.clear();
            steepest = true;
            dir = direction();
        }
        backtracks = 0;
        if (pairs.isEmpty()) { // no curvature known: the largest change is 1 (scipy's unit norm is invisible in f32 over many pixels)
            double max = 0;
            for (float v : dir) max = Math.max(max, Math.abs(v));
            step = max > 0 ? 1 / max : 1;
        } else {
            step = 1;
        }
        trial = stepFrom(step);
    }

    /** −H·g on the free variables (two-loop recursion), 0 on the held ones. */
    private float[] direction() {
        boolean[] held = heldVariables();
        int n = x.length;
        double[] q = new double[n];
        for (int i = 0; i < n; i++) q[i] = held[i] ? 0 : g[i];
        float[][][] hist = pairs.toArray(new float[0][][]);
        int m = hist.length;
        double[] alpha = new double[m], rho = new double[m];
        for (int j = m - 1; j >= 0; j--) {
            float[] s = hist[j][0], y = hist[j][1];
            double sy = 0, sq = 0;
            for (int i = 0; i < n; i++) if (!held[i]) {
                sy += (double) s[i] * y[i];
                sq += s[i] * q[i];
            }
            rho[j] = sy > 0 ? 1 / sy : 0;
            alpha[j] = rho[j] * sq;
            for (int i = 0; i < n; i++) if (!held[i]) q[i] -= alpha[j] * y[i];
        }
        if (m > 0) {
            float[] s = hist[m - 1][0], y = hist[m - 1][1];
            double sy = 0, yy = 0;
            for (int i = 0; i < n; i++) if (!held[i]) {
                sy += (double) s[i] * y[i];
                yy += (double) y[i] * y[i];
            }
            double gamma = sy > 0 && yy > 0 ? sy / yy : 1;
            for (int i = 0; i < n; i++) q[i] *= gamma;
        }
        for (int j = 0; j < m; j++) {
            float[] s = hist[j][0], y = hist[j][1];
            double yq = 0;
            for (int i = 0; i < n; i++) if (!held[i]) yq += y[i] * q[i];
            double beta = rho[j] * yq;
            for (int i = 0; i < n; i++) if (!held[i]) q[i] += (alpha[j] - beta) * s[i];
        }
        float[] d = new float[n];
        for (int i = 0; i < n; i++) d[i] = held[i] ? 0 : (float) -q[i];
        return d;
    }

    private boolean[] heldVariables() {
        boolean[] held = new boolean[x.length];
        for (int i = 0; i < x.length; i++) held[i] = (x[i] <= lo[i] && g[i] > 0) || (x[i] >= hi[i] && g[i] < 0);
        return held;
    }

    private float[] stepFrom(double t) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) out[i] = (float) (x[i] + t * dir[i]);
        return project(out, lo, hi);
    }

    /** max |P(x − g) − x|: zero exactly at a stationary point of the box-constrained problem. */
    private double projectedGradientMax() {
        double m = 0;
        for (int i = 0; i < x.length; i++) {
            double v = Math.min(hi[i], Math.max(lo[i], x[i] - g[i])) - x[i];
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    private void finish(String why) {
        done = true;
        stop = why;
        trial = x;
    }

    static float[] project(float[] v, float[] lo, float[] hi) {
        for (int i = 0; i < v.length; i++) v[i] = Math.min(hi[i], Math.max(lo[i], v[i]));
        return v;
    }

    @Override
    public String toString() {
        return "BoxLbfgs[f=" + f + ", iterations=" + iterations + ", evaluations=" + evaluations + ", stop=" + stop + ", pairs=" + pairs.size()
                + ", n=" + trial.length + "]";
    }
}
