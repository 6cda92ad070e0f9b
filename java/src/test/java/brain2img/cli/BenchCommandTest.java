package brain2img.cli;

import brain2img.sd.RandomWeights;
import brain2img.sd.UNetFlops;
import brain2img.sd.VaeFlops;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code bench sd --quick} and {@code bench ridge}: the output format (FLOP counts and rates), not the timings. */
class BenchCommandTest {
    /** "what   12.34 ms   5.6 GFLOP   0.789 GFLOP/s" */
    private static final Pattern LINE = Pattern.compile("(?m)^(.+?)\\s+([0-9.]+) ms\\s+([0-9.]+) GFLOP\\s+([0-9.]+) GFLOP/s$");

    private static MainTest.Run run(String... args) {
        return MainTest.run(args);
    }

    /** The FLOP column of the line starting with {@code what}, checked against its time and rate columns. */
    private static double gflop(String out, String what) {
        Matcher m = LINE.matcher(out);
        while (m.find()) {
            if (!m.group(1).startsWith(what)) continue;
            double ms = Double.parseDouble(m.group(2)), gf = Double.parseDouble(m.group(3)), rate = Double.parseDouble(m.group(4));
            assertTrue(ms > 0, m.group());
            // rate = FLOP / time, within the printed rounding of the three columns
            assertEquals(gf / (ms / 1e3), rate, 0.05 * rate + 1e-3, m.group());
            return gf;
        }
        throw new AssertionError("no line '" + what + "' with ms, GFLOP and GFLOP/s in:\n" + out);
    }

    /** The count as printed: GFLOP with four decimals. */
    private static void assertGflop(long flops, String out, String what) {
        assertEquals(flops / 1e9, gflop(out, what), 6e-5, what);
    }

    @Test
    void sdQuickPrintsFlopsAndRatesForEveryMeasurement() {
        MainTest.Run r = run("bench", "sd", "--quick", "--device", "cpu");
        assertEquals(0, r.code(), r.err() + r.out());
        var unet = RandomWeights.unetConfig("tiny");
        var vae = RandomWeights.vaeConfig("tiny");
        long step = UNetFlops.of(unet, 8, 8, 77).total();
        assertGflop(step, r.out(), "unet step, batch 1, 8×8");
        assertGflop(2 * step, r.out(), "unet step, batch 2, 8×8");
        assertGflop(2 * step, r.out(), "guidance step");
        assertGflop(VaeFlops.decode(vae, 8, 8), r.out(), "vae decode, batch 1, to 64×64");
        // --quick: 2-step schedule at strength 1 → both steps guided
        long image = VaeFlops.encode(vae, 64, 64) + 2 * 2 * step + VaeFlops.decode(vae, 8, 8);
        assertGflop(image, r.out(), "img2img, batch 1, 2-step schedule (2 guided steps)");
        assertGflop(2 * image, r.out(), "img2img, batch 2: ");
        assertTrue(r.out().matches("(?s).*img2img, batch 2: [0-9.]+ images/s.*"), r.out());
        assertTrue(r.out().contains("peak device memory: not tracked by the cpu backend"), r.out());
        assertTrue(r.out().startsWith("model: tiny, random weights"), r.out());
    }

    @Test
    void sdBadOptionsAreUsageErrors() {
        MainTest.Run r = run("bench", "sd", "--quick", "--latent", "12", "--device", "cpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("latent must be a multiple of 8, got 12"), r.err());
        r = run("bench", "sd", "--model", "xl", "--device", "cpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--model: expected v1 or tiny, got 'xl'"), r.err());
    }

    /** bench ridge is ridge bench; --nsd fills the sizes not given and drops the naive reference. */
    @Test
    void ridgeIsTheRidgeBenchAndNsdFillsTheUnsetSizes() {
        String[] size = {"--n", "90", "--p", "12", "--t", "20", "--alphas", "3", "--folds", "3", "--reference", "none", "--device", "cpu"};
        MainTest.Run a = run(concat(new String[]{"bench", "ridge"}, size)), b = run(concat(new String[]{"ridge", "bench"}, size));
        assertEquals(0, a.code(), a.err() + a.out());
        assertEquals(0, b.code(), b.err() + b.out());
        assertEquals(a.out().lines().findFirst(), b.out().lines().findFirst());
        assertTrue(a.out().contains("ridge fit: ") && a.out().contains("GFLOP/s"), a.out());

        MainTest.Run nsd = run("bench", "ridge", "--nsd", "--n", "90", "--p", "12", "--t", "20", "--device", "cpu");
        assertEquals(0, nsd.code(), nsd.err() + nsd.out());
        assertTrue(nsd.out().startsWith("problem: n=90 p=12 t=20, 7 alphas (1e-2..1e4), 5 folds"), nsd.out());
        assertFalse(nsd.out().contains("reference"), nsd.out());
        assertTrue(run("bench", "ridge", "--help").out().contains("--nsd"));
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
