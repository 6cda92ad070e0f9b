package brain2img.testing;

import brain2img.tensor.Tensor;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Numerical assertions used across the suite, and the random tensors they are tried on. */
public final class Assert {
    private Assert() {}

    /** ‖got − ref‖ / ‖ref‖ computed in double. */
    public static double relErr(float[] got, float[] ref) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = (double) got[i] - ref[i];
            num += d * d;
            den += (double) ref[i] * ref[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    /** Same shape and relative error ≤ tol; the message reports the error found. */
    public static void assertClose(Tensor ref, Tensor got, double tol, String what) {
        assertArrayEquals(ref.shape(), got.shape(), what + ": shape " + Arrays.toString(got.shape()) + " vs reference " + Arrays.toString(ref.shape()));
        double e = relErr(got.toFloatArray(), ref.toFloatArray());
        assertTrue(e <= tol, String.format("%s: relative error %.3e > %.1e", what, e, tol));
    }

    /**
     * got against a double-precision reference (the naive loops of the backend tests): same element count, every
     * value finite, ‖got − ref‖ / ‖ref‖ ≤ tol (the denominator floored at 1e-300, so an all-zero ref needs got = 0).
     */
    public static void assertClose(double[] ref, Tensor got, double tol, String what) {
        float[] g = got.toFloatArray();
        assertEquals(ref.length, g.length, what + ": element count");
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            assertTrue(Float.isFinite(g[i]), what + ": non-finite value at " + i);
            num += (g[i] - ref[i]) * (g[i] - ref[i]);
            den += ref[i] * ref[i];
        }
        double e = Math.sqrt(num / Math.max(den, 1e-300));
        assertTrue(e <= tol, String.format("%s: relative error %.3e > %.1e", what, e, tol));
    }

    /** A tensor of the given shape filled with standard normal draws from rnd, in order. */
    public static Tensor gaussian(Random rnd, long... shape) {
        float[] d = new float[(int) Tensor.numel(shape)];
        for (int i = 0; i < d.length; i++) d[i] = (float) rnd.nextGaussian();
        return Tensor.of(d, shape);
    }
}
