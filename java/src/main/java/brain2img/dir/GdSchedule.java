package brain2img.dir;

/**
 * The lab's linearly interpolated schedules: a value at iteration t of T is start + t·(end − start)/T.
 *
 * <p>Pixel optimisation ({@code icnn_gd}): lr 2 → 1e-10, momentum 0.9 → 0.9, decay 0.2 → 1e-10, blur σ 2 → 0.5.
 * Generator optimisation: lr 2 → 1e-10, momentum 0.9, decay 0.01 (z ← 0.99 z), no blur.
 * The pixel schedule puts lr inside the momentum (v ← μv + lr·ĝ, x ← x − v); the generator's, as
 * {@code docs/vision-nets.md} gives it, outside (v ← μv + ĝ, z ← z − lr·v). ĝ = g / mean|g|.
 */
public record GdSchedule(double lrStart, double lrEnd, double momentumStart, double momentumEnd,
                         double decayStart, double decayEnd, double sigmaStart, double sigmaEnd, boolean lrInMomentum) {

    public static final GdSchedule PIXELS = new GdSchedule(2, 1e-10, 0.9, 0.9, 0.2, 1e-10, 2, 0.5, true);
    public static final GdSchedule GENERATOR = new GdSchedule(2, 1e-10, 0.9, 0.9, 0.01, 0.01, 0, 0, false);

    public double lr(int t, int iterations) { return lerp(lrStart, lrEnd, t, iterations); }
    public double momentum(int t, int iterations) { return lerp(momentumStart, momentumEnd, t, iterations); }
    public double decay(int t, int iterations) { return lerp(decayStart, decayEnd, t, iterations); }
    public double sigma(int t, int iterations) { return lerp(sigmaStart, sigmaEnd, t, iterations); }

    private static double lerp(double a, double b, int t, int n) {
        return a + t * (b - a) / n;
    }

    /**
     * One momentum step on one image or latent, in place (ĝ = 0 when g is all zero), then the decay
     * x ← (1 − decay)·x, then a clip to [lo, hi] per element (lo/hi null: none).
     */
    public void step(int t, int iterations, float[] x, float[] v, float[] g, float[] lo, float[] hi) {
        double lr = lr(t, iterations), mom = momentum(t, iterations), keep = 1 - decay(t, iterations);
        double mean = 0;
        for (float e : g) mean += Math.abs(e);
        mean /= g.length;
        for (int i = 0; i < x.length; i++) {
            double gi = mean > 0 ? g[i] / mean : 0;
            double vi = lrInMomentum ? mom * v[i] + lr * gi : mom * v[i] + gi;
            v[i] = (float) vi;
            double xi = keep * (x[i] - (lrInMomentum ? vi : lr * vi));
            if (lo != null) xi = Math.max(lo[i], Math.min(hi[i], xi));
            x[i] = (float) xi;
        }
    }
}
