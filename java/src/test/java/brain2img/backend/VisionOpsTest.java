package brain2img.backend;

import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static brain2img.testing.Assert.assertClose;
import static brain2img.testing.Assert.gaussian;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The vision primitives of the CPU backend (grouped/depthwise/transposed convolution, pooling, activations,
 * crop) against the naive loops of {@link NaiveVision}, and every backward step against its forward: linear
 * ops by the adjoint identity ⟨f(x), g⟩ = ⟨x, f*(g)⟩, nonlinear ones by central finite differences. Odd sizes.
 */
class VisionOpsTest {
    private static final double TOL = 2e-6;
    private final Backend be = new CpuBackend();
    private final Random rnd = new Random(77);

    private Tensor random(long... shape) {
        return gaussian(rnd, shape);
    }

    private static double dot(Tensor a, Tensor b) {
        float[] x = a.toFloatArray(), y = b.toFloatArray();
        assertEquals(x.length, y.length);
        double s = 0;
        for (int i = 0; i < x.length; i++) s += (double) x[i] * y[i];
        return s;
    }

    /** ⟨f(x), g⟩ and ⟨x, f*(g)⟩ agree to float32 rounding. */
    private static void adjoint(Tensor x, Tensor fx, Tensor g, Tensor fStarG, String what) {
        assertArrayEquals(x.shape(), fStarG.shape(), what + ": gradient shape");
        double a = dot(fx, g), b = dot(x, fStarG);
        assertEquals(a, b, 1e-5 * (Math.abs(a) + Math.abs(b) + 1), what + ": adjoint identity");
    }

    @ParameterizedTest
    @CsvSource({
            // b, c, h, w, o, k, stride, pad, groups
            "2, 6, 9, 11, 4, 3, 1, 1, 2",
            "1, 6, 13, 8, 9, 3, 2, 1, 3",
            "2, 5, 10, 7, 5, 5, 2, 2, 5",     // depthwise
            "1, 4, 9, 9, 8, 3, 1, 0, 4",      // depthwise, multiplier 2
            "2, 7, 8, 9, 3, 1, 1, 0, 1",      // pointwise
            "1, 3, 12, 10, 5, 4, 3, 2, 1"})
    void groupedConvolutionAndItsInputGradient(int b, int c, int h, int w, int o, int k, int s, int p, int groups) {
        Tensor x = random(b, c, h, w), wt = random(o, c / groups, k, k), bias = random(o);
        Tensor y = be.conv2d(x, wt, bias, groups, s, s, p, p + 1, p, p);
        assertClose(NaiveVision.conv2d(x, wt, bias, groups, s, p, p + 1, p), y, TOL, "grouped conv");
        Tensor g = random(y.shape());
        Tensor yNoBias = be.conv2d(x, wt, null, groups, s, s, p, p + 1, p, p);
        Tensor dx = be.convTranspose2d(g, wt, null, groups, s, s, p, p, h, w);
        adjoint(x, yNoBias, g, dx, "conv input gradient");
    }

    @ParameterizedTest
    @CsvSource({
            // b, cin, h, w, coutPerGroup, k, stride, pad, outputPadding, groups
            "2, 4, 4, 4, 3, 4, 2, 1, 0, 1",
            "1, 6, 5, 3, 2, 3, 2, 1, 1, 2",
            "1, 3, 6, 7, 5, 3, 1, 1, 0, 1",
            "2, 4, 3, 5, 1, 4, 3, 0, 2, 4"})
    void transposedConvolutionAndItsInputGradient(int b, int cin, int h, int w, int og, int k, int s, int p, int op, int groups) {
        Tensor x = random(b, cin, h, w), wt = random(cin, og, k, k), bias = random(og * groups);
        int oh = (h - 1) * s - 2 * p + k + op, ow = (w - 1) * s - 2 * p + k + op;
        Tensor y = be.convTranspose2d(x, wt, bias, groups, s, s, p, p, oh, ow);
        assertArrayEquals(new long[]{b, (long) og * groups, oh, ow}, y.shape());
        assertClose(NaiveVision.convTranspose2d(x, wt, bias, groups, s, p, oh, ow), y, TOL, "transposed conv");
        // its input gradient is the strided convolution with the same weights (bottom/right padding p − op)
        Tensor g = random(y.shape());
        Tensor dx = be.conv2d(g, wt, null, groups, s, s, p, p - op, p, p - op);
        adjoint(x, be.convTranspose2d(x, wt, null, groups, s, s, p, p, oh, ow), g, dx, "transposed conv input gradient");
    }

    /** VGG's 2×2 stride-2 windows (a path of their own): a NaN wins wherever it sits, a tie goes to the first. */
    @Test
    void twoByTwoPoolingNaNAndTies() {
        Tensor x = random(1, 1, 4, 6);
        x.setFloat(1 * 6 + 1, Float.NaN);                     // last element of window (0,0)
        x.setFloat(2 * 6 + 2, 7f);                            // window (1,1): a tie, first at (2,2) …
        x.setFloat(3 * 6 + 3, 7f);                            // … and again at (3,3)
        x.setFloat(0 * 6 + 4, Float.NaN);                     // window (0,2): NaN first, then larger values
        x.setFloat(1 * 6 + 5, 50f);
        Tensor y = be.maxPool2d(x, 2, 2, 2, 2, 0, 0, false);
        assertTrue(Float.isNaN(y.getFloat(0)) && Float.isNaN(y.getFloat(2)), "NaN windows");
        assertEquals(7f, y.getFloat(3 + 1), 0f, "tie");
        Tensor dx = be.maxPool2dBackward(x, Tensor.of(new float[]{1, 2, 3, 4, 5, 6}, 1, 1, 2, 3), 2, 2, 2, 2, 0, 0, false);
        assertEquals(1f, dx.getFloat(1 * 6 + 1), 0f, "to the NaN");
        assertEquals(3f, dx.getFloat(0 * 6 + 4), 0f, "to the first NaN, not the larger value after it");
        assertEquals(5f, dx.getFloat(2 * 6 + 2), 0f, "to the first of a tie");
        assertEquals(0f, dx.getFloat(3 * 6 + 3), 0f, "not the second");
    }

    /** A NaN in a window is that window's maximum (torch propagates it), at the border and inside. */
    @Test
    void maxPoolingPropagatesNaN() {
        Tensor x = random(1, 1, 6, 6);
        x.setFloat(0, Float.NaN);             // corner: a clipped window of 3×3 stride 2 padding 1
        x.setFloat(3 * 6 + 3, Float.NaN);     // (3,3): inside window (1,1), whose top-left is (1,1)
        x.setFloat(3 * 6 + 4, 100f);          // a larger value after the NaN in the same window
        Tensor y = be.maxPool2d(x, 3, 3, 2, 2, 1, 1, false);
        assertTrue(Float.isNaN(y.getFloat(0)), "border window");
        assertTrue(Float.isNaN(y.getFloat(3 + 1)), "interior window");
        Tensor dx = be.maxPool2dBackward(x, Tensor.of(new float[]{1, 0, 0, 0, 2, 4, 0, 0, 0}, 1, 1, 3, 3), 3, 3, 2, 2, 1, 1, false);
        assertEquals(1f, dx.getFloat(0), 0f, "border window's gradient goes to its NaN");
        // windows (1,1) and (1,2) both hold the NaN at (3,3); (1,2) also holds the 100 after it
        assertEquals(6f, dx.getFloat(3 * 6 + 3), 0f, "interior windows' gradients go to their NaN");
        assertEquals(0f, dx.getFloat(3 * 6 + 4), 0f, "not to the larger value after it");
    }

    @ParameterizedTest
    @CsvSource({"3,3,2,2,1,1,false", "3,3,2,2,0,0,true", "2,2,2,2,0,0,false", "2,2,2,2,0,0,true", "3,2,1,2,1,0,true", "3,3,2,2,1,1,true"})
    void maxPoolingRoutesToTheFirstMaximum(int kh, int kw, int sh, int sw, int ph, int pw, boolean ceil) {
        Tensor x = random(2, 3, 9, 8);
        // plant exact ties so the tie rule is exercised
        for (int i = 0; i < x.numel(); i += 5) x.setFloat(i, 0.5f);
        Tensor y = be.maxPool2d(x, kh, kw, sh, sw, ph, pw, ceil);
        NaiveVision.Pooled ref = NaiveVision.maxPool(x, kh, kw, sh, sw, ph, pw, ceil);
        assertArrayEquals(ref.shape(), y.shape(), "max pool shape");
        assertClose(ref.values(), y, 0, "max pool");
        Tensor g = random(y.shape());
        assertClose(NaiveVision.route(ref, g, x.numel()), be.maxPool2dBackward(x, g, kh, kw, sh, sw, ph, pw, ceil), TOL, "max pool backward");
    }

    @ParameterizedTest
    @CsvSource({"3,3,1,1,1,1,false,true", "3,3,1,1,1,1,false,false", "3,2,2,2,1,1,true,true", "3,2,2,2,1,1,true,false",
            "2,2,2,2,0,0,false,true", "5,5,3,3,2,2,true,false"})
    void averagePoolingBothPaddingConventions(int kh, int kw, int sh, int sw, int ph, int pw, boolean ceil, boolean incl) {
        Tensor x = random(2, 3, 10, 7);
        Tensor y = be.avgPool2d(x, kh, kw, sh, sw, ph, pw, ceil, incl);
        NaiveVision.Pooled ref = NaiveVision.avgPool(x, kh, kw, sh, sw, ph, pw, ceil, incl);
        assertArrayEquals(ref.shape(), y.shape(), "avg pool shape");
        assertClose(ref.values(), y, TOL, "avg pool");
        Tensor g = random(y.shape());
        adjoint(x, y, g, be.avgPool2dBackward(g, 10, 7, kh, kw, sh, sw, ph, pw, ceil, incl), "avg pool backward");
    }

    @ParameterizedTest
    @CsvSource({"1,1", "6,6", "7,7", "3,5", "13,9"})
    void adaptiveAveragePooling(int oh, int ow) {
        Tensor x = random(2, 3, 13, 10);
        Tensor y = be.adaptiveAvgPool2d(x, oh, ow);
        assertClose(NaiveVision.adaptiveAvg(x, oh, ow), y, TOL, "adaptive avg pool");
        Tensor g = random(y.shape());
        adjoint(x, y, g, be.adaptiveAvgPool2dBackward(g, 13, 10), "adaptive avg pool backward");
    }

    @ParameterizedTest
    @EnumSource(Backend.Act.class)
    void activationsAndTheirDerivatives(Backend.Act act) {
        Tensor x = random(3, 5, 7);
        float slope = 0.3f;
        Tensor y = be.activate(act, slope, x);
        double[] ref = new double[(int) x.numel()];
        for (int i = 0; i < ref.length; i++) ref[i] = NaiveVision.act(act, slope, x.getFloat(i));
        assertClose(ref, y, 1e-6, act + " forward");
        Tensor g = random(x.shape());
        Tensor dx = be.activateBackward(act, slope, x, g);
        double[] fd = new double[ref.length];
        for (int i = 0; i < fd.length; i++) {
            double v = x.getFloat(i), e = 1e-4;
            fd[i] = g.getFloat(i) * (NaiveVision.act(act, slope, v + e) - NaiveVision.act(act, slope, v - e)) / (2 * e);
        }
        assertClose(fd, dx, 1e-6, act + " derivative");
    }

    /** The rectifiers select: +0 (not −0) below zero forward, and +0 backward there even for a NaN gradient. */
    @ParameterizedTest
    @EnumSource(value = Backend.Act.class, names = {"RELU", "LEAKY_RELU"})
    void rectifiersSelectRatherThanMultiply(Backend.Act act) {
        int n = 37;    // whole vectors and a scalar tail at every species width
        float[] xv = new float[n], gv = new float[n];
        for (int i = 0; i < n; i++) {
            xv[i] = i % 3 == 0 ? -(i + 1) : i % 3 == 1 ? 0f : i;
            gv[i] = i % 3 == 2 ? i * 0.5f : Float.NaN;
        }
        Tensor x = Tensor.of(xv, n), y = be.activate(act, 0.25f, x);
        Tensor dx = be.activateBackward(act, 0.25f, x, Tensor.of(gv, n));
        for (int i = 0; i < n; i++) {
            float want = xv[i] > 0 ? xv[i] : act == Backend.Act.RELU ? 0f : xv[i] * 0.25f;
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(y.getFloat(i)), act + " forward at " + xv[i]);
            if (xv[i] > 0) assertEquals(gv[i], dx.getFloat(i), 0f, act + " backward passes g at " + xv[i]);
            else if (act == Backend.Act.RELU) assertEquals(0, Float.floatToRawIntBits(dx.getFloat(i)), "ReLU backward at " + xv[i]);
            else assertTrue(Float.isNaN(dx.getFloat(i)), "LeakyReLU backward scales a NaN gradient at " + xv[i]);
        }
    }

    @Test
    void cropCutsAndZeroPadsAndIsItsOwnAdjoint() {
        Tensor x = random(2, 3, 9, 8);
        for (int[] c : new int[][]{{2, 1, 5, 6}, {-2, -1, 12, 11}, {4, 3, 7, 2}}) {
            Tensor y = be.crop(x, c[0], c[1], c[2], c[3]);
            assertClose(NaiveVision.crop(x, c[0], c[1], c[2], c[3]), y, 0, "crop " + java.util.Arrays.toString(c));
            Tensor g = random(y.shape());
            adjoint(x, y, g, be.crop(g, -c[0], -c[1], 9, 8), "crop backward");
        }
    }

    @ParameterizedTest
    @CsvSource({"BILINEAR,false", "BILINEAR,true", "BICUBIC,false", "BICUBIC,true"})
    void resizeBackwardIsTheAdjoint(Backend.Interp mode, boolean aa) {
        Tensor x = random(2, 3, 11, 9);
        for (int[] size : new int[][]{{5, 4}, {23, 17}, {11, 6}}) {
            Tensor y = be.resize(x, size[0], size[1], mode, aa);
            Tensor g = random(y.shape());
            adjoint(x, y, g, be.resizeBackward(g, 11, 9, mode, aa), "resize backward " + mode + " aa=" + aa);
        }
    }

    @Test
    void badShapesAreRefusedNamingThem() {
        Tensor x = random(1, 6, 5, 5);
        var e = assertThrows(IllegalArgumentException.class, () -> be.conv2d(x, random(4, 4, 3, 3), null, 2, 1, 1, 0, 0, 0, 0));
        assertTrue(e.getMessage().contains("[4, 4, 3, 3]"), e.getMessage());
        var pool = assertThrows(IllegalArgumentException.class, () -> be.maxPool2d(x, 7, 7, 1, 1, 0, 0, false));
        assertEquals("pooling: window 7 larger than padded input 5", pool.getMessage());
        var transposed = assertThrows(IllegalArgumentException.class, () -> be.convTranspose2d(x, random(5, 2, 3, 3), null, 1, 1, 1, 0, 0, 7, 7));
        assertTrue(transposed.getMessage().startsWith("convTranspose2d: input f32[1, 6, 5, 5] and weight f32[5, 2, 3, 3] must be"),
                transposed.getMessage());
    }
}
