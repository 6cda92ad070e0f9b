package brain2img.sd;

import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.io.FormatException;
import brain2img.io.Json;
import brain2img.io.Npy;
import brain2img.tensor.Tensor;
import brain2img.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static brain2img.testing.Assert.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DdimSchedulerTest {
    static final Backend CPU = new CpuBackend();

    static DdimScheduler sdTiny() {
        return DdimScheduler.from(Json.read(Shared.sdTiny().resolve("weights/scheduler/scheduler_config.json")));
    }

    static DdimScheduler withConfig(String json) {
        return DdimScheduler.from(Json.parse(json, "test config"));
    }

    @Test
    void alphasCumprodMatchesDiffusers() {
        DdimScheduler s = sdTiny();
        Tensor ref = Npy.read(Shared.sdTiny().resolve("cases/ddim_alphas_cumprod.npy"));
        assertClose(ref, Tensor.of(s.alphasCumprod(), 1000), 1e-4, "ddim_alphas_cumprod");
        // Element-wise too, so the small late values are checked as well as the norm-dominating early ones.
        double[] r = ref.toDoubleArray(), a = s.alphasCumprod();
        for (int i = 0; i < 1000; i++) assertEquals(r[i], a[i], 1e-5 * r[i], "alpha_cumprod[" + i + "]");
    }

    /** The spot values of the facts sheet (given to 5 significant digits). */
    @Test
    void alphaSpotValues() {
        DdimScheduler s = sdTiny();
        assertEquals(0.99915, s.alphaCumprod(0), 5e-6);
        assertEquals(0.070514, s.alphaCumprod(721), 5e-7);
        assertEquals(0.0057755, s.alphaCumprod(981), 5e-8);
        assertEquals(0.0046601, s.alphaCumprod(999), 5e-8);
        // set_alpha_to_one false: the step after the last lands on ᾱ₀, not 1.
        assertEquals(s.alphaCumprod(0), s.alphaCumprod(-99));
    }

    @Test
    void leadingTimestepsMatchDiffusers() {
        DdimScheduler s = sdTiny();
        long[] ref = Npy.read(Shared.sdTiny().resolve("cases/ddim_timesteps_50.npy")).toLongArray();
        int[] ts = s.timesteps(50);
        assertEquals(50, ts.length);
        for (int i = 0; i < 50; i++) assertEquals(ref[i], ts[i], "timestep " + i);
        assertArrayEquals(new int[]{901, 801, 701, 601, 501, 401, 301, 201, 101, 1}, s.timesteps(10));
        assertEquals(-19, s.previousTimestep(1, 50));
        assertEquals(961, s.previousTimestep(981, 50));
    }

    /** np.linspace(0, 999, 10).round()[::-1] and np.round(np.arange(1000, 0, -100)) - 1. */
    @Test
    void linspaceAndTrailingSpacing() {
        String base = "{\"beta_schedule\":\"scaled_linear\",\"beta_start\":0.00085,\"beta_end\":0.012,\"timestep_spacing\":";
        assertArrayEquals(new int[]{999, 888, 777, 666, 555, 444, 333, 222, 111, 0},
                withConfig(base + "\"linspace\"}").timesteps(10));
        assertArrayEquals(new int[]{999, 899, 799, 699, 599, 499, 399, 299, 199, 99},
                withConfig(base + "\"trailing\"}").timesteps(10));
        // linspace(0, 999, 4) = 0, 333, 666, 999; trailing with T/N = 333.33…: 1000, 666.67, 333.33 → 999, 666, 332
        assertArrayEquals(new int[]{999, 666, 333, 0}, withConfig(base + "\"linspace\"}").timesteps(4));
        assertArrayEquals(new int[]{999, 666, 332}, withConfig(base + "\"trailing\"}").timesteps(3));
    }

    /** A bare diffusers DDIMScheduler(): linear betas 1e-4 → 0.02, set_alpha_to_one, no offset. */
    @Test
    void diffusersDefaults() {
        DdimScheduler s = withConfig("{}");
        assertEquals(1 - 1e-4, s.alphaCumprod(0), 1e-15);
        assertEquals((1 - 1e-4) * (1 - (1e-4 + (0.02 - 1e-4) / 999)), s.alphaCumprod(1), 1e-15);
        assertEquals(1.0, s.alphaCumprod(-1));
        assertArrayEquals(new int[]{750, 500, 250, 0}, s.timesteps(4));
    }

    @Test
    void cosineSchedule() {
        DdimScheduler s = withConfig("{\"beta_schedule\":\"squaredcos_cap_v2\"}");
        // Without the 0.999 cap, ᾱ_t telescopes to f((t+1)/T)/f(0) with f(u) = cos²((u+0.008)/1.008·π/2).
        double f0 = Math.pow(Math.cos(0.008 / 1.008 * Math.PI / 2), 2);
        double f500 = Math.pow(Math.cos((501 / 1000.0 + 0.008) / 1.008 * Math.PI / 2), 2);
        assertEquals(f500 / f0, s.alphaCumprod(500), 1e-12);
    }

    @Test
    void unsupportedOptionsAreNamed() {
        var e = assertThrows(FormatException.class, () -> withConfig("{\"thresholding\":true}"));
        assertTrue(e.getMessage().contains("thresholding"), e.getMessage());
        e = assertThrows(FormatException.class, () -> withConfig("{\"beta_schedule\":\"sigmoid\"}"));
        assertTrue(e.getMessage().contains("sigmoid"), e.getMessage());
        e = assertThrows(FormatException.class, () -> withConfig("{\"prediction_type\":\"flow\"}"));
        assertTrue(e.getMessage().contains("prediction_type"), e.getMessage());
        var many = assertThrows(IllegalArgumentException.class, () -> sdTiny().timesteps(1001));
        assertEquals("DDIM steps must be in 1..1000, got 1001", many.getMessage());
        var none = assertThrows(IllegalArgumentException.class, () -> sdTiny().timesteps(0));
        assertEquals("DDIM steps must be in 1..1000, got 0", none.getMessage());
    }

    /**
     * On the exact trajectory x_t = √ᾱ_t x₀ + √(1−ᾱ_t) e, a model that predicts the truth in any
     * parameterisation makes the η = 0 step land on √ᾱ_p x₀ + √(1−ᾱ_p) e.
     */
    @ParameterizedTest
    @EnumSource(DdimScheduler.Prediction.class)
    void exactPredictionStaysOnTheTrajectory(DdimScheduler.Prediction type) {
        String json = "{\"beta_schedule\":\"scaled_linear\",\"beta_start\":0.00085,\"beta_end\":0.012,\"clip_sample\":false,"
                + "\"set_alpha_to_one\":false,\"steps_offset\":1,\"prediction_type\":\"" + type.name().toLowerCase() + "\"}";
        DdimScheduler s = withConfig(json);
        float[] x0 = {0.5f, -1.5f, 2f, 0.1f}, e = {1f, 0.3f, -0.7f, -2f};
        int t = 501, p = 401;
        double at = s.alphaCumprod(t), ap = s.alphaCumprod(p);
        Tensor xt = Tensor.of(mix(Math.sqrt(at), x0, Math.sqrt(1 - at), e), 1, 1, 2, 2);
        float[] out = switch (type) {
            case EPSILON -> e;
            case SAMPLE -> x0;
            case V_PREDICTION -> mix(Math.sqrt(at), e, -Math.sqrt(1 - at), x0); // v = √ᾱ e − √(1−ᾱ) x₀
        };
        Tensor got = s.step(CPU, Tensor.of(out, 1, 1, 2, 2), t, p, xt, 0, null);
        assertClose(Tensor.of(mix(Math.sqrt(ap), x0, Math.sqrt(1 - ap), e), 1, 1, 2, 2), got, 1e-6, type.toString());
    }

    /** η > 0: σ = η√((1−ᾱ_p)/(1−ᾱ_t)·(1−ᾱ_t/ᾱ_p)); x_p = √ᾱ_p x₀ + √(1−ᾱ_p−σ²) ε + σ z. */
    @Test
    void stochasticStep() {
        DdimScheduler s = sdTiny();
        int t = 701, p = 601;
        double at = s.alphaCumprod(t), ap = s.alphaCumprod(p), eta = 0.7;
        double sigma = eta * Math.sqrt((1 - ap) / (1 - at) * (1 - at / ap));
        assertEquals(sigma, s.sigma(t, p, eta), 1e-15);
        float[] x0 = {0.5f, -1.5f}, e = {1f, 0.3f}, z = {-0.4f, 1.2f};
        Tensor xt = Tensor.of(mix(Math.sqrt(at), x0, Math.sqrt(1 - at), e), 1, 2);
        Tensor got = s.step(CPU, Tensor.of(e, 1, 2), t, p, xt, eta, Tensor.of(z, 1, 2));
        float[] want = new float[2];
        for (int i = 0; i < 2; i++) want[i] = (float) (Math.sqrt(ap) * x0[i] + Math.sqrt(1 - ap - sigma * sigma) * e[i] + sigma * z[i]);
        assertClose(Tensor.of(want, 1, 2), got, 1e-6, "eta step");
        var noNoise = assertThrows(IllegalArgumentException.class, () -> s.step(CPU, Tensor.of(e, 1, 2), t, p, xt, eta, null));
        assertEquals("DDIM step with eta > 0 needs noise shaped like f32[1, 2], got none", noNoise.getMessage());
    }

    /** clip_sample clamps the predicted x₀ (not ε): x_p = √ᾱ_p clamp(x̂₀) + √(1−ᾱ_p) ε. */
    @Test
    void clipSample() {
        DdimScheduler s = withConfig("{\"beta_schedule\":\"scaled_linear\",\"beta_start\":0.00085,\"beta_end\":0.012,"
                + "\"clip_sample\":true,\"clip_sample_range\":1.0,\"set_alpha_to_one\":false}");
        int t = 300, p = 200;
        double at = s.alphaCumprod(t), ap = s.alphaCumprod(p);
        float[] x0 = {3f, -0.5f, -2f}, e = {0.2f, -1f, 0.4f}, clamped = {1f, -0.5f, -1f};
        Tensor xt = Tensor.of(mix(Math.sqrt(at), x0, Math.sqrt(1 - at), e), 3);
        Tensor got = s.step(CPU, Tensor.of(e, 3), t, p, xt, 0, null);
        assertClose(Tensor.of(mix(Math.sqrt(ap), clamped, Math.sqrt(1 - ap), e), 3), got, 1e-6, "clip_sample");
    }

    @Test
    void addNoise() {
        DdimScheduler s = sdTiny();
        double a = s.alphaCumprod(801);
        float[] x0 = {1f, 2f}, n = {-1f, 0.5f};
        assertClose(Tensor.of(mix(Math.sqrt(a), x0, Math.sqrt(1 - a), n), 2),
                s.addNoise(CPU, Tensor.of(x0, 2), Tensor.of(n, 2), 801), 1e-7, "add_noise");
    }

    static float[] mix(double a, float[] x, double b, float[] y) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) out[i] = (float) (a * x[i] + b * y[i]);
        return out;
    }
}
