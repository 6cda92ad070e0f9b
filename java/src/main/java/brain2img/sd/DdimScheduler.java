package brain2img.sd;

import brain2img.backend.Backend;
import brain2img.io.FormatException;
import brain2img.tensor.Tensor;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.Locale;

/**
 * DDIM (Song et al. 2021) as diffusers' {@code DDIMScheduler} configures it from
 * {@code scheduler/scheduler_config.json}, but stateless: the number of inference steps N is passed where needed.
 *
 * <p>Schedule: betas by {@code beta_schedule} ({@code scaled_linear}: linspace(√β₀, √β₁, T)², {@code linear},
 * {@code squaredcos_cap_v2}, or {@code trained_betas}), ᾱ = cumprod(1 − β), computed in double.
 * Timesteps by {@code timestep_spacing}: {@code leading} (i·⌊T/N⌋ + steps_offset, descending; the SD v1 setting),
 * {@code linspace} and {@code trailing} as in diffusers 0.21. The step before t is t − ⌊T/N⌋ for every spacing
 * (as diffusers does); below 0 it uses ᾱ = 1 when {@code set_alpha_to_one}, else ᾱ₀.
 *
 * <p>One step from t to its predecessor p, with ε̂ and x̂₀ derived from the model output by {@code prediction_type}:
 * σ = η·√((1−ᾱₚ)/(1−ᾱₜ)·(1−ᾱₜ/ᾱₚ)), x₀ clamped to ±clip_sample_range when {@code clip_sample},
 * xₚ = √ᾱₚ·x̂₀ + √(1−ᾱₚ−σ²)·ε̂ + σ·z with z standard normal noise supplied by the caller.
 */
public final class DdimScheduler {
    public enum Prediction { EPSILON, V_PREDICTION, SAMPLE }

    public enum Spacing { LEADING, LINSPACE, TRAILING }

    private final double[] alphasCumprod;
    private final double finalAlphaCumprod;
    private final int stepsOffset;
    private final Spacing spacing;
    private final Prediction prediction;
    private final boolean clipSample;
    private final double clipSampleRange;

    public DdimScheduler(double[] betas, boolean setAlphaToOne, int stepsOffset, Spacing spacing,
                         Prediction prediction, boolean clipSample, double clipSampleRange) {
        if (betas.length < 1) throw new IllegalArgumentException("DDIM: no training timesteps");
        alphasCumprod = new double[betas.length];
        double prod = 1;
        for (int i = 0; i < betas.length; i++) {
            if (!(betas[i] > 0 && betas[i] < 1)) throw new IllegalArgumentException("DDIM: beta[" + i + "] = " + betas[i] + " is not in (0,1)");
            prod *= 1 - betas[i];
            alphasCumprod[i] = prod;
        }
        this.finalAlphaCumprod = setAlphaToOne ? 1.0 : alphasCumprod[0];
        this.stepsOffset = stepsOffset;
        this.spacing = spacing;
        this.prediction = prediction;
        this.clipSample = clipSample;
        this.clipSampleRange = clipSampleRange;
    }

    /** The scheduler of a checkpoint: {@code scheduler/scheduler_config.json}, else --config's, else the SD v1 default. */
    public static DdimScheduler load(SdSource src) {
        return from(src.config(SdSource.SCHEDULER));
    }

    /** From a diffusers scheduler config; options this implementation does not have are refused by name. */
    public static DdimScheduler from(JsonNode c) {
        if (c.path("thresholding").asBoolean(false)) throw unsupported("thresholding", "true");
        if (c.path("rescale_betas_zero_snr").asBoolean(false)) throw unsupported("rescale_betas_zero_snr", "true");
        int t = c.path("num_train_timesteps").asInt(1000);
        double[] betas;
        JsonNode trained = c.get("trained_betas");
        if (trained != null && !trained.isNull()) {
            betas = new double[trained.size()];
            for (int i = 0; i < betas.length; i++) betas[i] = trained.get(i).asDouble();
        } else {
            betas = betas(text(c, "beta_schedule", "linear"), c.path("beta_start").asDouble(0.0001),
                    c.path("beta_end").asDouble(0.02), t);
        }
        return new DdimScheduler(betas,
                c.path("set_alpha_to_one").asBoolean(true),
                c.path("steps_offset").asInt(0),
                parse(Spacing.class, "timestep_spacing", text(c, "timestep_spacing", "leading")),
                parse(Prediction.class, "prediction_type", text(c, "prediction_type", "epsilon")),
                c.path("clip_sample").asBoolean(true),
                c.path("clip_sample_range").asDouble(1.0));
    }

    /** Training betas for a named schedule over T steps. */
    public static double[] betas(String schedule, double start, double end, int t) {
        double[] b = new double[t];
        switch (schedule) {
            case "linear" -> { for (int i = 0; i < t; i++) b[i] = lerp(start, end, i, t); }
            case "scaled_linear" -> {
                for (int i = 0; i < t; i++) {
                    double s = lerp(Math.sqrt(start), Math.sqrt(end), i, t);
                    b[i] = s * s;
                }
            }
            case "squaredcos_cap_v2" -> {
                for (int i = 0; i < t; i++) b[i] = Math.min(1 - cosineAlphaBar((i + 1.0) / t) / cosineAlphaBar((double) i / t), 0.999);
            }
            default -> throw unsupported("beta_schedule", schedule);
        }
        return b;
    }

    public int trainTimesteps() { return alphasCumprod.length; }

    /** ᾱ over the T training timesteps (a copy). */
    public double[] alphasCumprod() { return alphasCumprod.clone(); }

    /** ᾱₜ; for t < 0 (the step after the last) the final value, 1 or ᾱ₀ by {@code set_alpha_to_one}. */
    public double alphaCumprod(int t) {
        if (t >= alphasCumprod.length) throw new IllegalArgumentException("timestep " + t + " ≥ " + alphasCumprod.length);
        return t < 0 ? finalAlphaCumprod : alphasCumprod[t];
    }

    /** The N timesteps run, in the order they are run (descending). */
    public int[] timesteps(int steps) {
        int tt = trainTimesteps();
        if (steps < 1 || steps > tt) throw new IllegalArgumentException("DDIM steps must be in 1.." + tt + ", got " + steps);
        int[] ts = new int[steps];
        switch (spacing) {
            case LEADING -> {
                int ratio = tt / steps;
                for (int i = 0; i < steps; i++) ts[i] = (steps - 1 - i) * ratio + stepsOffset;
            }
            case LINSPACE -> {
                // np.linspace(0, T−1, N).round()[::-1]; NumPy rounds half to even, as Math.rint does.
                for (int i = 0; i < steps; i++) {
                    int j = steps - 1 - i;
                    ts[i] = (int) Math.rint(steps == 1 ? 0 : (double) (tt - 1) * j / (steps - 1));
                }
            }
            case TRAILING -> {
                // np.round(np.arange(T, 0, −T/N)) − 1
                double ratio = (double) tt / steps;
                for (int i = 0; i < steps; i++) ts[i] = (int) Math.rint(tt - i * ratio) - 1;
            }
        }
        for (int t : ts) {
            if (t < 0 || t >= tt) throw new IllegalArgumentException("DDIM: timestep " + t + " out of range (steps_offset " + stepsOffset + ")");
        }
        return ts;
    }

    /** The timestep a DDIM step from t lands on, with N inference steps: t − ⌊T/N⌋ (negative after the last). */
    public int previousTimestep(int t, int steps) {
        return t - trainTimesteps() / steps;
    }

    /** Forward diffusion to level t: √ᾱₜ·x₀ + √(1−ᾱₜ)·noise. */
    public Tensor addNoise(Backend be, Tensor x0, Tensor noise, int t) {
        double a = alphaCumprod(t);
        return be.axpby((float) Math.sqrt(a), x0, (float) Math.sqrt(1 - a), noise);
    }

    /** The standard deviation σ of the noise a step from t to prev adds for a given η. */
    public double sigma(int t, int prev, double eta) {
        double at = alphaCumprod(t), ap = alphaCumprod(prev);
        return eta * Math.sqrt((1 - ap) / (1 - at) * (1 - at / ap));
    }

    /**
     * One DDIM step: sample xₜ (B,C,h,w) and the model output at t → x at {@code prev}.
     *
     * @param noise standard normal noise like the sample, used only when eta > 0 (may be null otherwise)
     */
    public Tensor step(Backend be, Tensor modelOutput, int t, int prev, Tensor sample, double eta, Tensor noise) {
        if (!modelOutput.sameShape(sample)) {
            throw new IllegalArgumentException("DDIM step: model output " + modelOutput.shapeString() + " vs sample " + sample.shapeString());
        }
        if (eta < 0) throw new IllegalArgumentException("DDIM eta must be ≥ 0, got " + eta);
        double at = alphaCumprod(t), ap = alphaCumprod(prev);
        double sa = Math.sqrt(at), sb = Math.sqrt(1 - at);
        Tensor x0, eps;
        switch (prediction) {
            case EPSILON -> {
                x0 = be.axpby((float) (1 / sa), sample, (float) (-sb / sa), modelOutput);
                eps = modelOutput;
            }
            case V_PREDICTION -> {
                x0 = be.axpby((float) sa, sample, (float) -sb, modelOutput);
                eps = be.axpby((float) sa, modelOutput, (float) sb, sample);
            }
            case SAMPLE -> {
                x0 = modelOutput;
                eps = be.axpby((float) (1 / sb), sample, (float) (-sa / sb), modelOutput);
            }
            default -> throw new AssertionError(prediction);
        }
        // diffusers clamps x̂₀ but keeps ε̂ as predicted (use_clipped_model_output=False).
        if (clipSample) x0 = be.clamp(x0, (float) -clipSampleRange, (float) clipSampleRange);
        double sigma = sigma(t, prev, eta);
        Tensor prevSample = be.axpby((float) Math.sqrt(ap), x0, (float) Math.sqrt(Math.max(0, 1 - ap - sigma * sigma)), eps);
        if (eta > 0) {
            if (noise == null || !noise.sameShape(sample)) {
                throw new IllegalArgumentException("DDIM step with eta > 0 needs noise shaped like " + sample.shapeString()
                        + ", got " + (noise == null ? "none" : noise.shapeString()));
            }
            prevSample = be.axpby(1f, prevSample, (float) sigma, noise);
        }
        return prevSample;
    }

    private static double lerp(double a, double b, int i, int n) {
        return n == 1 ? a : a + (b - a) * i / (n - 1);
    }

    private static double cosineAlphaBar(double s) {
        double c = Math.cos((s + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    private static String text(JsonNode c, String key, String dflt) {
        JsonNode n = c.get(key);
        return n == null || n.isNull() ? dflt : n.asText();
    }

    private static <E extends Enum<E>> E parse(Class<E> type, String key, String value) {
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw unsupported(key, value);
        }
    }

    private static FormatException unsupported(String key, String value) {
        return new FormatException("scheduler config: " + key + " = " + value + " is not supported by the DDIM scheduler");
    }
}
