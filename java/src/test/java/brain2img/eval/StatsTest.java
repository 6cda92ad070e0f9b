package brain2img.eval;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StatsTest {
    @Test
    void bootstrapOfAConstantHasNoWidth() {
        double[] v = new double[9];
        Arrays.fill(v, 0.37);
        Stats.Interval ci = Stats.bootstrap(v, 500, 42);
        assertEquals(0.37, ci.mean(), 1e-15);
        assertEquals(0.37, ci.low(), 1e-15);
        assertEquals(0.37, ci.high(), 1e-15);
    }

    @Test
    void bootstrapIntervalOfANormalSampleIsAboutTwoStandardErrors() {
        Random rnd = new Random(11);
        int n = 400;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = rnd.nextGaussian();
        double mean = Stats.mean(v), sd = 0;
        for (double x : v) sd += (x - mean) * (x - mean);
        sd = Math.sqrt(sd / (n - 1));
        Stats.Interval ci = Stats.bootstrap(v, 4000, 42);
        double half = 1.96 * sd / Math.sqrt(n);
        assertEquals(mean - half, ci.low(), 0.15 * half);
        assertEquals(mean + half, ci.high(), 0.15 * half);
        // seeded: the same call gives the same interval
        assertEquals(ci, Stats.bootstrap(v, 4000, 42));
    }

    @Test
    void exactPermutationTestCountsSignPatterns() {
        // all ten differences positive: only the identity pattern reaches the observed sum → 2^-10
        double[] a = new double[10], b = new double[10];
        for (int i = 0; i < 10; i++) a[i] = 1 + i;
        assertEquals(1.0 / 1024, Stats.pairedPermutationP(a, b, 0, 1), 0);
        // differences (1, −1): sums over the 4 patterns are 0, 2, −2, 0 → three reach 0 → 0.75
        assertEquals(0.75, Stats.pairedPermutationP(new double[]{1, 0}, new double[]{0, 1}, 0, 1), 0);
        // identical scores: every pattern ties → 1
        assertEquals(1.0, Stats.pairedPermutationP(a, a, 0, 1), 0);
    }

    @Test
    void largeSamplesUseSeededRandomPatterns() {
        int n = 40;
        double[] a = new double[n], b = new double[n];
        for (int i = 0; i < n; i++) a[i] = 0.1;
        // no random pattern of 40 signs (other than all +, probability 2^-40) reaches the observed sum
        assertEquals(1.0 / 10001, Stats.pairedPermutationP(a, b, 10000, 42), 1e-12);
        // no effect: p near 1/2 or above
        Random rnd = new Random(3);
        double[] c = new double[n], d = new double[n];
        for (int i = 0; i < n; i++) {
            c[i] = rnd.nextGaussian();
            d[i] = rnd.nextGaussian();
        }
        double p = Stats.pairedPermutationP(c, d, 10000, 42);
        assertTrue(p > 0.05, "no-effect p-value " + p);
        assertEquals(p, Stats.pairedPermutationP(c, d, 10000, 42));
    }
}
