package brain2img.sd;

import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static brain2img.testing.Assert.assertClose;
import static brain2img.testing.Assert.relErr;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The samplers with a denoiser whose answer is known in closed form, so every result can be worked out by hand.
 *
 * <p>The oracle knows the clean latent x₀ and returns the exact noise of its input, ε(x,t) = (x − √ᾱ_t x₀)/√(1−ᾱ_t).
 * Then DDIM (η = 0) predicts x̂₀ = x₀ at every step and ε stays the ε of the first step, so the result after the
 * last step (which lands on ᾱ₀) is √ᾱ₀ x₀ + √(1−ᾱ₀) ε_first. For guidance the oracle answers the conditional half
 * (context 1) with ε + d(1 − 1/g) and the unconditional half (context 0) with ε + d: only ε_u + g(ε_c − ε_u) with
 * the halves in [uncond; cond] order recovers ε.
 */
class SamplerTest {
    static final Backend CPU = new CpuBackend();
    static final long[] LATENT = {2, 4, 2, 3};

    /** The SD v1 schedule (the sd-tiny config), written out so this test needs no shared data. */
    static final DdimScheduler SD = DdimScheduler.from(brain2img.io.Json.parse("{\"beta_schedule\":\"scaled_linear\","
            + "\"beta_start\":0.00085,\"beta_end\":0.012,\"num_train_timesteps\":1000,\"clip_sample\":false,"
            + "\"set_alpha_to_one\":false,\"steps_offset\":1,\"prediction_type\":\"epsilon\",\"timestep_spacing\":\"leading\"}", "sd"));

    static final class Oracle implements Denoiser {
        final Tensor x0;
        final float offset, guidance;
        final List<Integer> batchSizes = new ArrayList<>();
        final List<Float> timesteps = new ArrayList<>();

        Oracle(Tensor x0, float offset, float guidance) {
            this.x0 = x0;
            this.offset = offset;
            this.guidance = guidance;
        }

        @Override
        public Tensor predict(Tensor latent, float[] ts, Tensor context) {
            int b = latent.dimInt(0), per = Math.toIntExact(latent.numel() / b);
            assertEquals(b, ts.length);
            assertEquals(b, context.dim(0));
            batchSizes.add(b);
            timesteps.add(ts[0]);
            float[] x = latent.toFloatArray(), ref = x0.toFloatArray(), out = new float[x.length];
            int items = x0.dimInt(0);
            for (int i = 0; i < b; i++) {
                double a = SD.alphaCumprod((int) ts[i]);
                boolean uncond = context.get(i).getFloat(0) == 0f;
                double bias = uncond ? offset : offset * (1 - 1 / guidance);
                for (int j = 0; j < per; j++) {
                    double clean = ref[(i % items) * per + j];
                    out[i * per + j] = (float) ((x[i * per + j] - Math.sqrt(a) * clean) / Math.sqrt(1 - a) + bias);
                }
            }
            return Tensor.of(out, latent.shape());
        }
    }

    static Tensor random(long seed) {
        return SeededNoise.normal(seed, 0, LATENT);
    }

    static Tensor context(int batch, float value) {
        float[] v = new float[batch * 3 * 5];
        java.util.Arrays.fill(v, value);
        return Tensor.of(v, batch, 3, 5);
    }

    /** √ᾱ₀ x₀ + √(1−ᾱ₀) ε with ε = (x_start − √ᾱ_first x₀)/√(1−ᾱ_first). */
    static Tensor expected(Tensor x0, Tensor start, int first) {
        double a0 = SD.alphaCumprod(0), af = SD.alphaCumprod(first);
        float[] x = x0.toFloatArray(), s = start.toFloatArray(), out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            double eps = (s[i] - Math.sqrt(af) * x[i]) / Math.sqrt(1 - af);
            out[i] = (float) (Math.sqrt(a0) * x[i] + Math.sqrt(1 - a0) * eps);
        }
        return Tensor.of(out, x0.shape());
    }

    @Test
    void txt2imgWithGuidance() {
        Tensor x0 = random(1), noise = random(2);
        Oracle oracle = new Oracle(x0, 0.8f, 7.5f);
        List<Integer> seen = new ArrayList<>();
        Tensor got = new Sampler(oracle, SD, CPU).txt2img(noise, context(2, 1), context(2, 0),
                new Sampler.Settings(8, 7.5f, 0, 0), (i, n, t) -> {
                    assertEquals(8, n);
                    seen.add(t);
                });
        assertClose(expected(x0, noise, 876), got, 1e-5, "txt2img");
        assertEquals(List.of(876, 751, 626, 501, 376, 251, 126, 1), seen);
        assertEquals(List.of(4, 4, 4, 4, 4, 4, 4, 4), oracle.batchSizes); // [uncond; cond] in one call
        assertEquals(876f, oracle.timesteps.get(0));
    }

    /** The same run with swapped halves or without guidance misses the oracle's ε, so the check above has teeth. */
    @Test
    void guidanceOrderMatters() {
        Tensor x0 = random(1), noise = random(2);
        Sampler.Settings s = new Sampler.Settings(8, 7.5f, 0, 0);
        Tensor swapped = new Sampler(new Oracle(x0, 0.8f, 7.5f), SD, CPU).txt2img(noise, context(2, 0), context(2, 1), s, Sampler.Progress.NONE);
        assertTrue(relErr(swapped.toFloatArray(), expected(x0, noise, 876).toFloatArray()) > 1e-2);
        Oracle plain = new Oracle(x0, 0f, 7.5f);
        Tensor unguided = new Sampler(plain, SD, CPU).txt2img(noise, context(2, 1), null, s, Sampler.Progress.NONE);
        assertClose(expected(x0, noise, 876), unguided, 1e-5, "no uncond: conditional only");
        assertEquals(2, plain.batchSizes.get(0));
    }

    /** A (1,L,D) unconditional context serves the whole batch. */
    @Test
    void singleUncondIsBroadcast() {
        Tensor x0 = random(1), noise = random(2);
        Tensor got = new Sampler(new Oracle(x0, 0.8f, 5f), SD, CPU).txt2img(noise, context(2, 1), context(1, 0),
                new Sampler.Settings(8, 5f, 0, 0), Sampler.Progress.NONE);
        assertClose(expected(x0, noise, 876), got, 1e-5, "broadcast uncond");
    }

    @Test
    void img2imgDiffusersConvention() {
        Tensor x0 = random(1), noise = random(2);
        Sampler sampler = new Sampler(new Oracle(x0, 0.8f, 5f), SD, CPU);
        Sampler.Plan plan = Sampler.img2imgPlan(SD, 10, 0.8, Sampler.Convention.DIFFUSERS);
        assertArrayEquals(new int[]{701, 601, 501, 401, 301, 201, 101, 1}, plan.timesteps());
        assertEquals(701, plan.noiseTimestep());
        Tensor got = sampler.img2img(x0, noise, 0.8, Sampler.Convention.DIFFUSERS, context(2, 1), context(2, 0),
                new Sampler.Settings(10, 5f, 0, 0), Sampler.Progress.NONE);
        // Noised at the first timestep run, the oracle's ε is the noise itself: √ᾱ₀ x₀ + √(1−ᾱ₀) n.
        Tensor start = SD.addNoise(CPU, x0, noise, 701);
        assertClose(expected(x0, start, 701), got, 1e-5, "img2img diffusers");
        assertClose(Tensor.of(DdimSchedulerTest.mix(Math.sqrt(SD.alphaCumprod(0)), x0.toFloatArray(),
                Math.sqrt(1 - SD.alphaCumprod(0)), noise.toFloatArray()), LATENT), got, 1e-5, "img2img diffusers, by hand");
    }

    /** CompVis: the same 8 timesteps are run, but z₀ is noised one DDIM step higher (801). */
    @Test
    void img2imgCompvisConvention() {
        Tensor x0 = random(1), noise = random(2);
        Sampler sampler = new Sampler(new Oracle(x0, 0.8f, 5f), SD, CPU);
        Sampler.Plan plan = Sampler.img2imgPlan(SD, 10, 0.8, Sampler.Convention.COMPVIS);
        assertArrayEquals(new int[]{701, 601, 501, 401, 301, 201, 101, 1}, plan.timesteps());
        assertEquals(801, plan.noiseTimestep());
        // 50 steps, strength 0.75 (Takagi & Nishimoto's setting): ⌊37.5⌋ = 37 steps from 721, noise at 741.
        Sampler.Plan takagi = Sampler.img2imgPlan(SD, 50, 0.75, Sampler.Convention.COMPVIS);
        assertEquals(37, takagi.timesteps().length);
        assertEquals(721, takagi.timesteps()[0]);
        assertEquals(741, takagi.noiseTimestep());
        assertEquals(721, Sampler.img2imgPlan(SD, 50, 0.75, Sampler.Convention.DIFFUSERS).noiseTimestep());

        Tensor got = sampler.img2img(x0, noise, 0.8, Sampler.Convention.COMPVIS, context(2, 1), context(2, 0),
                new Sampler.Settings(10, 5f, 0, 0), Sampler.Progress.NONE);
        assertClose(expected(x0, SD.addNoise(CPU, x0, noise, 801), 701), got, 1e-5, "img2img compvis");
        Tensor diffusers = sampler.img2img(x0, noise, 0.8, Sampler.Convention.DIFFUSERS, context(2, 1), context(2, 0),
                new Sampler.Settings(10, 5f, 0, 0), Sampler.Progress.NONE);
        assertTrue(relErr(got.toFloatArray(), diffusers.toFloatArray()) > 1e-3, "the conventions differ");
    }

    @Test
    void strengthLimits() {
        assertEquals(901, Sampler.img2imgPlan(SD, 10, 1.0, Sampler.Convention.DIFFUSERS).noiseTimestep());
        var e = assertThrows(IllegalArgumentException.class, () -> Sampler.img2imgPlan(SD, 10, 1.0, Sampler.Convention.COMPVIS));
        assertTrue(e.getMessage().contains("compvis"), e.getMessage());
        var none = assertThrows(IllegalArgumentException.class, () -> Sampler.img2imgPlan(SD, 10, 0.05, Sampler.Convention.DIFFUSERS));
        assertTrue(none.getMessage().contains("strength 0.05 with 10 steps runs no denoising step"), none.getMessage());
        var zero = assertThrows(IllegalArgumentException.class, () -> Sampler.img2imgPlan(SD, 10, 0, Sampler.Convention.DIFFUSERS));
        assertEquals("strength must be in (0,1], got 0.0", zero.getMessage());
        var above = assertThrows(IllegalArgumentException.class, () -> Sampler.img2imgPlan(SD, 10, 1.5, Sampler.Convention.DIFFUSERS));
        assertEquals("strength must be in (0,1], got 1.5", above.getMessage());
        // Python's int(10 * 0.7) is 7 (in double; a float 0.7f would give 6).
        assertEquals(7, Sampler.img2imgPlan(SD, 10, 0.7, Sampler.Convention.DIFFUSERS).timesteps().length);
    }

    @Test
    void etaNoiseIsSeededAndReproducible() {
        Tensor x0 = random(1), noise = random(2);
        Sampler sampler = new Sampler(new Oracle(x0, 0.8f, 5f), SD, CPU);
        java.util.function.LongFunction<Tensor> run = seed -> sampler.img2img(x0, noise, 0.8, Sampler.Convention.DIFFUSERS,
                context(2, 1), context(2, 0), new Sampler.Settings(10, 5f, 1.0, seed), Sampler.Progress.NONE);
        Tensor a = run.apply(42), b = run.apply(42), c = run.apply(43);
        assertArrayEquals(a.toFloatArray(), b.toFloatArray(), "same seed, same result");
        assertTrue(relErr(a.toFloatArray(), c.toFloatArray()) > 1e-2, "another seed, another result");
        Tensor deterministic = sampler.img2img(x0, noise, 0.8, Sampler.Convention.DIFFUSERS, context(2, 1), context(2, 0),
                new Sampler.Settings(10, 5f, 0, 42), Sampler.Progress.NONE);
        assertTrue(relErr(a.toFloatArray(), deterministic.toFloatArray()) > 1e-2, "eta > 0 adds noise");

        // Batch item 0 does not depend on the rest of the batch.
        Tensor x01 = x0.slice(0, 1).copy(), n1 = noise.slice(0, 1).copy();
        Tensor single = new Sampler(new Oracle(x01, 0.8f, 5f), SD, CPU).img2img(x01, n1, 0.8, Sampler.Convention.DIFFUSERS,
                context(1, 1), context(1, 0), new Sampler.Settings(10, 5f, 1.0, 42), Sampler.Progress.NONE);
        assertArrayEquals(a.slice(0, 1).toFloatArray(), single.toFloatArray(), 1e-6f);
    }

    @Test
    void shapesAreCheckedBeforeCompute() {
        Oracle oracle = new Oracle(random(1), 0, 1);
        Sampler sampler = new Sampler(oracle, SD, CPU);
        Sampler.Settings s = new Sampler.Settings(4, 5f, 0, 0);
        var cond = assertThrows(IllegalArgumentException.class, () -> sampler.txt2img(random(2), context(3, 1), context(3, 0), s, Sampler.Progress.NONE));
        assertTrue(cond.getMessage().startsWith("cond must be (B,L,D) with B = 2") && cond.getMessage().contains("f32[3, 3, 5]"), cond.getMessage());
        var uncond = assertThrows(IllegalArgumentException.class, () -> sampler.txt2img(random(2), context(2, 1), Tensor.zeros(2, 3, 4), s, Sampler.Progress.NONE));
        assertTrue(uncond.getMessage().startsWith("uncond must be") && uncond.getMessage().contains("f32[2, 3, 5]")
                && uncond.getMessage().contains("f32[2, 3, 4]"), uncond.getMessage());
        var init = assertThrows(IllegalArgumentException.class, () -> sampler.img2img(Tensor.zeros(2, 4, 4, 4), random(2), 0.5,
                Sampler.Convention.DIFFUSERS, context(2, 1), null, s, Sampler.Progress.NONE));
        assertTrue(init.getMessage().startsWith("initial latent f32[2, 4, 4, 4] and noise") && init.getMessage().contains("differ in shape"), init.getMessage());
        var eta = assertThrows(IllegalArgumentException.class, () -> new Sampler.Settings(4, 5f, -0.1, 0));
        assertEquals("eta must be ≥ 0, got -0.1", eta.getMessage());
        assertTrue(oracle.batchSizes.isEmpty());
    }

    @Test
    void seededNoiseIsStandardNormal() {
        // SplitMix64 reference vector: seeded with 0, its first output is mix(0x9e3779b97f4a7c15).
        assertEquals(0xe220a8397b1dcdafL, SeededNoise.mix(0x9e3779b97f4a7c15L));
        float[] v = SeededNoise.normal(7, 3, 4, 50_000).toFloatArray();
        double mean = 0, sq = 0, fourth = 0;
        for (float x : v) {
            mean += x;
            sq += x * x;
            fourth += (double) x * x * x * x;
        }
        int n = v.length;
        mean /= n;
        double var = sq / n - mean * mean;
        assertEquals(0, mean, 5 / Math.sqrt(n));
        assertEquals(1, var, 5 * Math.sqrt(2.0 / n));
        assertEquals(3, fourth / n, 0.1); // Gaussian kurtosis
        assertArrayEquals(SeededNoise.normal(7, 3, 1, 10).toFloatArray(), SeededNoise.normal(7, 3, 2, 10).slice(0, 1).toFloatArray());
        assertTrue(relErr(SeededNoise.normal(7, 4, 1, 10).toFloatArray(), SeededNoise.normal(7, 3, 1, 10).toFloatArray()) > 0.5);
    }
}
