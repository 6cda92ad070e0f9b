package brain2img.sd;

import brain2img.backend.Backend;
import brain2img.tensor.Tensor;

import java.util.Arrays;

/**
 * Text-to-image and image-to-image DDIM sampling in latent space, with classifier-free guidance.
 *
 * <p>Guidance: ε = ε_u + g·(ε_c − ε_u), from one batched {@link Denoiser} call on [x; x] with contexts
 * [uncond; cond] (uncond first, as diffusers and CompVis order them). Without an unconditional context, or at
 * g = 1 where the formula reduces to ε_c, only the conditional half is run.
 *
 * <p>img2img starts from an initial scaled latent z₀ and a strength s in (0,1] with N steps:
 * <ul>
 *   <li>{@link Convention#DIFFUSERS} (default, diffusers' StableDiffusionImg2ImgPipeline): k = min(⌊N·s⌋, N); run
 *       the last k of the N timesteps; noise z₀ to the level of the first of them.</li>
 *   <li>{@link Convention#COMPVIS} (CompVis {@code scripts/img2img.py}, used by Takagi &amp; Nishimoto): k = ⌊N·s⌋;
 *       run the same last k timesteps, but noise z₀ to the level of the timestep one DDIM step above the first
 *       one run (k must be below N, since there is no step above the top one).</li>
 * </ul>
 * Timesteps come from the scheduler config for both conventions (CompVis' own "uniform" DDIM timesteps equal
 * diffusers' "leading" with steps_offset 1 whenever N divides 1000).
 *
 * <p>With η &gt; 0 each step adds noise from {@link SeededNoise} with the given seed and the step's timestep as
 * stream, so a run is reproducible from (inputs, seed) and item b of a batch does not depend on the others.
 */
public final class Sampler {
    public enum Convention { DIFFUSERS, COMPVIS }

    /** Called after each denoising step: step index (0-based), number of steps, timestep just run. */
    @FunctionalInterface
    public interface Progress {
        void step(int index, int total, int timestep);

        Progress NONE = (i, n, t) -> {};
    }

    /** Sampling settings: N DDIM steps (before the strength cut), guidance scale g, DDIM η and its seed. */
    public record Settings(int steps, float guidance, double eta, long seed) {
        public Settings {
            if (steps < 1) throw new IllegalArgumentException("steps must be ≥ 1, got " + steps);
            if (!(eta >= 0)) throw new IllegalArgumentException("eta must be ≥ 0, got " + eta);
            if (!Float.isFinite(guidance)) throw new IllegalArgumentException("guidance must be finite, got " + guidance);
        }
    }

    /** The timesteps an img2img run denoises through (descending) and the level its start noise is added at. */
    public record Plan(int[] timesteps, int noiseTimestep) {
        public Plan {
            timesteps = timesteps.clone();
        }

        @Override
        public int[] timesteps() { return timesteps.clone(); }

        @Override
        public String toString() { return "Plan" + Arrays.toString(timesteps) + " noised at " + noiseTimestep; }
    }

    private final Denoiser denoiser;
    private final DdimScheduler scheduler;
    private final Backend be;

    public Sampler(Denoiser denoiser, DdimScheduler scheduler, Backend be) {
        this.denoiser = denoiser;
        this.scheduler = scheduler;
        this.be = be;
    }

    /** Which timesteps img2img runs for N steps and strength s under a convention; see the class comment. */
    public static Plan img2imgPlan(DdimScheduler scheduler, int steps, double strength, Convention convention) {
        if (!(strength > 0 && strength <= 1)) throw new IllegalArgumentException("strength must be in (0,1], got " + strength);
        int[] all = scheduler.timesteps(steps);
        int k = Math.min((int) (steps * strength), steps); // Python's int(N·s): truncation, in double like Python
        if (k < 1) {
            throw new IllegalArgumentException("strength " + strength + " with " + steps + " steps runs no denoising step (⌊N·s⌋ = 0)");
        }
        int[] run = Arrays.copyOfRange(all, steps - k, steps);
        return switch (convention) {
            case DIFFUSERS -> new Plan(run, run[0]);
            case COMPVIS -> {
                if (k == steps) {
                    throw new IllegalArgumentException("the compvis convention needs ⌊N·strength⌋ < N (got strength " + strength
                            + " with " + steps + " steps): it noises to the timestep above the first one run, and there is none");
                }
                yield new Plan(run, all[steps - k - 1]);
            }
        };
    }

    /**
     * Text-to-image: denoises from pure noise through all N timesteps.
     *
     * @param noise  (B,C,h,w) initial latent (DDIM's initial noise sigma is 1)
     * @param cond   (B,L,D) conditional context
     * @param uncond (B,L,D) or (1,L,D) unconditional context, or null for no guidance
     * @return the final scaled latent (B,C,h,w) on the backend
     */
    public Tensor txt2img(Tensor noise, Tensor cond, Tensor uncond, Settings s, Progress progress) {
        checkShapes(noise, null, cond, uncond);
        return denoise(be.upload(noise), scheduler.timesteps(s.steps()), cond, uncond, s, progress);
    }

    /**
     * Image-to-image: noises the initial latent to the plan's level, then denoises through the plan's timesteps.
     *
     * @param initLatent (B,C,h,w) scaled latent z₀ (the VAE mean times scaling_factor)
     * @param noise      (B,C,h,w) standard normal noise added to z₀
     */
    public Tensor img2img(Tensor initLatent, Tensor noise, double strength, Convention convention,
                          Tensor cond, Tensor uncond, Settings s, Progress progress) {
        checkShapes(noise, initLatent, cond, uncond);
        Plan plan = img2imgPlan(scheduler, s.steps(), strength, convention);
        Tensor x = scheduler.addNoise(be, be.upload(initLatent), be.upload(noise), plan.noiseTimestep());
        return denoise(x, plan.timesteps(), cond, uncond, s, progress);
    }

    private Tensor denoise(Tensor x, int[] timesteps, Tensor cond, Tensor uncond, Settings s, Progress progress) {
        int b = x.dimInt(0);
        boolean guided = uncond != null && s.guidance() != 1f;
        Tensor context = guided ? catBatch(be.upload(uncond.dim(0) == b ? uncond : repeat(uncond, b)), be.upload(cond))
                : be.upload(cond); // (2B,L,D) ordered [uncond; cond], or (B,L,D)
        float g = s.guidance();
        for (int i = 0; i < timesteps.length; i++) {
            int t = timesteps[i];
            Tensor eps;
            if (guided) {
                float[] ts = new float[2 * b];
                Arrays.fill(ts, t);
                Tensor out = denoiser.predict(catBatch(x, x), ts, context); // (2B,C,h,w)
                eps = be.axpby(1 - g, out.slice(0, b), g, out.slice(b, 2L * b));
            } else {
                float[] ts = new float[b];
                Arrays.fill(ts, t);
                eps = denoiser.predict(x, ts, context);
            }
            Tensor z = s.eta() > 0 ? be.upload(SeededNoise.normal(s.seed(), t, x.shape())) : null;
            x = scheduler.step(be, eps, t, scheduler.previousTimestep(t, s.steps()), x, s.eta(), z);
            progress.step(i, timesteps.length, t);
        }
        return x;
    }

    private static void checkShapes(Tensor noise, Tensor init, Tensor cond, Tensor uncond) {
        if (noise.rank() != 4) throw new IllegalArgumentException("noise must be (B,C,h,w), got " + noise.shapeString());
        if (init != null && !init.sameShape(noise)) {
            throw new IllegalArgumentException("initial latent " + init.shapeString() + " and noise " + noise.shapeString() + " differ in shape");
        }
        if (cond.rank() != 3 || cond.dim(0) != noise.dim(0)) {
            throw new IllegalArgumentException("cond must be (B,L,D) with B = " + noise.dim(0) + " as in the noise, got " + cond.shapeString());
        }
        if (uncond != null && (uncond.rank() != 3 || (uncond.dim(0) != cond.dim(0) && uncond.dim(0) != 1)
                || uncond.dim(1) != cond.dim(1) || uncond.dim(2) != cond.dim(2))) {
            throw new IllegalArgumentException("uncond must be (B,L,D) or (1,L,D) matching cond " + cond.shapeString()
                    + ", got " + uncond.shapeString());
        }
    }

    /** Concatenates two contiguous tensors along dimension 0: (Ba,...) and (Bb,...) → (Ba+Bb,...). */
    private Tensor catBatch(Tensor a, Tensor b) {
        long[] shape = a.shape();
        shape[0] = a.dim(0) + b.dim(0);
        // As (1, n) rows, the batch concatenation is a concatenation along dimension 1.
        return be.concatChannels(a.reshape(1, a.numel()), b.reshape(1, b.numel())).reshape(shape);
    }

    /** (1,...) host tensor repeated to (n,...). */
    private static Tensor repeat(Tensor one, int n) {
        float[] src = one.toFloatArray();
        float[] out = new float[src.length * n];
        for (int i = 0; i < n; i++) System.arraycopy(src, 0, out, i * src.length, src.length);
        long[] shape = one.shape();
        shape[0] = n;
        return Tensor.of(out, shape);
    }
}
