package brain2img.sd;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The sinusoidal timestep features against their closed form. */
class UNetTimestepTest {
    @Test
    void sdV1ValuesAt981FromTheFactsSheet() {
        float[] e = UNet.timestepFeatures(new float[]{981f}, 320, true, 0f);
        assertEquals(0.679957, e[0], 1e-6);    // cos(981·f_0), f_0 = 1
        assertEquals(0.733252, e[160], 1e-6);  // sin(981·f_0)
    }

    @Test
    void matchesClosedFormForAllFrequencies() {
        float[] t = {0f, 1f, 500f, 999f, 17.5f};
        int dim = 320, half = 160;
        float[] e = UNet.timestepFeatures(t, dim, true, 0f);
        for (int b = 0; b < t.length; b++) {
            for (int i = 0; i < half; i++) {
                double arg = t[b] * Math.exp(-Math.log(10000) * i / half);
                // float32 rounding of the argument t·f costs up to ~1e-4 at t≈1000, as in PyTorch
                assertEquals(Math.cos(arg), e[b * dim + i], 2e-4, "cos t=" + t[b] + " i=" + i);
                assertEquals(Math.sin(arg), e[b * dim + half + i], 2e-4, "sin t=" + t[b] + " i=" + i);
            }
        }
    }

    @Test
    void unflippedOrderAndFrequencyShift() {
        float t = 37f;
        int dim = 8, half = 4;
        float[] e = UNet.timestepFeatures(new float[]{t}, dim, false, 1f);
        for (int i = 0; i < half; i++) {
            double arg = t * Math.exp(-Math.log(10000) * i / (half - 1));
            assertEquals(Math.sin(arg), e[i], 1e-5);
            assertEquals(Math.cos(arg), e[half + i], 1e-5);
        }
    }
}
