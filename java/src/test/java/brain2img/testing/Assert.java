package brain2img.testing;

import brain2img.tensor.Tensor;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Numerical assertions used across the suite. */
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
}
