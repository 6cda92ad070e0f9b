package brain2img.cuda;

import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.tensor.Tensor;
import brain2img.testing.GpuTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static brain2img.testing.Assert.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CUDA backend's vision primitives (fp32 mode) — grouped, depthwise and transposed convolution, pooling,
 * activations, resize, crop, and their input gradients — against the CPU backend at several shapes, odd sizes
 * included. Runs only on a GPU (or kernels/emu's CPU stand-in).
 */
@GpuTest
class CudaVisionGpuTest {
    static final double TOL = 1e-5;
    static CudaBackend gpu;
    static final CpuBackend cpu = new CpuBackend();
    final Random rnd = new Random(4321);

    @BeforeAll
    static void open() {
        gpu = new CudaBackend(CudaBackend.Precision.FP32);
    }

    @AfterAll
    static void close() {
        if (gpu != null) gpu.close();
    }

    Tensor rand(long... shape) {
        float[] d = new float[Math.toIntExact(Tensor.numel(shape))];
        for (int i = 0; i < d.length; i++) d[i] = (float) rnd.nextGaussian();
        return Tensor.of(d, shape);
    }

    static void same(Tensor ref, Tensor dev, double tol, String what) {
        assertTrue(dev.isOnDevice(), what + ": result should be a device tensor");
        assertClose(ref, gpu.download(dev), tol, what);
    }

    // ------------------------------------------------------------------ convolutions

    @Test
    void groupedAndDepthwiseConvolution() {
        // {B, C, H, W, O, groups, k, stride, pad}: depthwise (EfficientNet, with channel multiplier), grouped, 1×1 grouped
        int[][] cases = {{2, 6, 11, 9, 6, 6, 3, 1, 1}, {1, 4, 12, 13, 8, 4, 5, 2, 2}, {2, 6, 9, 7, 4, 2, 3, 2, 1},
                {1, 8, 5, 6, 12, 4, 1, 1, 0}, {2, 3, 7, 8, 3, 3, 3, 2, 0}};
        for (int[] c : cases) {
            Tensor x = rand(c[0], c[1], c[2], c[3]), w = rand(c[4], c[1] / c[5], c[6], c[6]), b = rand(c[4]);
            String what = "conv2d groups " + c[5] + " " + x.shapeString() + " w " + w.shapeString() + " s" + c[7] + " p" + c[8];
            same(cpu.conv2d(x, w, b, c[5], c[7], c[7], c[8], c[8], c[8], c[8]),
                    gpu.conv2d(x, w, b, c[5], c[7], c[7], c[8], c[8], c[8], c[8]), TOL, what);
        }
        Tensor x = rand(1, 4, 6, 6), w = rand(4, 1, 3, 3);   // asymmetric padding (TF-style "same")
        same(cpu.conv2d(x, w, null, 4, 2, 2, 0, 1, 0, 1), gpu.conv2d(x, w, null, 4, 2, 2, 0, 1, 0, 1), TOL, "depthwise asymmetric pad");
    }

    @Test
    void transposedConvolutionAndConvInputGradient() {
        // {B, Cin, H, W, Cout/groups, groups, k, stride, pad, outH, outW}
        int[][] cases = {{2, 3, 5, 6, 4, 1, 3, 1, 1, 5, 6}, {1, 4, 5, 4, 3, 2, 3, 2, 1, 9, 8}, {2, 2, 4, 5, 3, 1, 4, 2, 1, 8, 10},
                {1, 6, 7, 5, 1, 6, 3, 2, 0, 15, 11}, {1, 3, 3, 3, 2, 1, 2, 2, 0, 7, 7}};
        for (int[] c : cases) {
            Tensor x = rand(c[0], c[1], c[2], c[3]), w = rand(c[1], c[4], c[6], c[6]), b = rand((long) c[4] * c[5]);
            String what = "convTranspose2d groups " + c[5] + " " + x.shapeString() + " w " + w.shapeString() + " → " + c[9] + "x" + c[10];
            same(cpu.convTranspose2d(x, w, b, c[5], c[7], c[7], c[8], c[8], c[9], c[10]),
                    gpu.convTranspose2d(x, w, b, c[5], c[7], c[7], c[8], c[8], c[9], c[10]), TOL, what);
        }
        // as conv2d's input gradient: ⟨conv(x), g⟩ = ⟨x, convT(g)⟩ on the device
        Tensor x = rand(2, 4, 9, 8), w = rand(6, 2, 3, 3);
        Tensor y = gpu.conv2d(x, w, null, 2, 2, 2, 1, 1, 1, 1);
        Tensor g = rand(y.shape());
        Tensor gx = gpu.convTranspose2d(g, w, null, 2, 2, 2, 1, 1, 9, 8);
        double lhs = dot(gpu.download(y), g), rhs = dot(x, gpu.download(gx));
        assertTrue(Math.abs(lhs - rhs) <= 1e-4 * Math.abs(lhs) + 1e-4, "adjoint identity: " + lhs + " vs " + rhs);
    }

    static double dot(Tensor a, Tensor b) {
        float[] af = a.floats(), bf = b.floats();
        double s = 0;
        for (int i = 0; i < af.length; i++) s += (double) af[i] * bf[i];
        return s;
    }

    // ------------------------------------------------------------------ pooling

    @Test
    void maxPoolingAndItsGradient() {
        // {B, C, H, W, k, stride, pad, ceil}: VGG/AlexNet/ResNet/Inception windows
        int[][] cases = {{2, 3, 13, 11, 3, 2, 1, 0}, {1, 4, 13, 11, 3, 2, 0, 1}, {2, 2, 8, 9, 2, 2, 0, 0}, {1, 3, 7, 7, 3, 1, 1, 0},
                {1, 2, 55, 55, 3, 2, 0, 0}};
        for (int[] c : cases) {
            Tensor x = rand(c[0], c[1], c[2], c[3]);
            if (c[2] == 8) x = round(x); // ties: the first in the window wins on both backends
            boolean ceil = c[7] == 1;
            String what = "maxPool2d " + x.shapeString() + " k" + c[4] + " s" + c[5] + " p" + c[6] + (ceil ? " ceil" : "");
            Tensor ref = cpu.maxPool2d(x, c[4], c[4], c[5], c[5], c[6], c[6], ceil);
            same(ref, gpu.maxPool2d(x, c[4], c[4], c[5], c[5], c[6], c[6], ceil), 0, what);
            Tensor g = rand(ref.shape());
            same(cpu.maxPool2dBackward(x, g, c[4], c[4], c[5], c[5], c[6], c[6], ceil),
                    gpu.maxPool2dBackward(x, g, c[4], c[4], c[5], c[5], c[6], c[6], ceil), TOL, what + " backward");
        }
    }

    static Tensor round(Tensor x) {
        float[] f = x.floats().clone();
        for (int i = 0; i < f.length; i++) f[i] = Math.round(f[i]);
        return Tensor.of(f, x.shape());
    }

    @Test
    void averagePoolingAndItsGradient() {
        int[][] cases = {{2, 3, 13, 11, 3, 2, 1, 0}, {1, 2, 10, 9, 3, 2, 1, 1}, {2, 2, 6, 5, 2, 2, 0, 0}, {1, 3, 17, 17, 3, 1, 1, 0}};
        for (int[] c : cases) {
            for (boolean incl : new boolean[]{true, false}) {
                Tensor x = rand(c[0], c[1], c[2], c[3]);
                boolean ceil = c[7] == 1;
                String what = "avgPool2d " + x.shapeString() + " k" + c[4] + " s" + c[5] + " p" + c[6] + (ceil ? " ceil" : "") + (incl ? " incl.pad" : "");
                Tensor ref = cpu.avgPool2d(x, c[4], c[4], c[5], c[5], c[6], c[6], ceil, incl);
                same(ref, gpu.avgPool2d(x, c[4], c[4], c[5], c[5], c[6], c[6], ceil, incl), TOL, what);
                Tensor g = rand(ref.shape());
                same(cpu.avgPool2dBackward(g, c[2], c[3], c[4], c[4], c[5], c[5], c[6], c[6], ceil, incl),
                        gpu.avgPool2dBackward(g, c[2], c[3], c[4], c[4], c[5], c[5], c[6], c[6], ceil, incl), TOL, what + " backward");
            }
        }
        var grad = assertThrows(IllegalArgumentException.class, () -> gpu.avgPool2dBackward(rand(1, 1, 3, 3), 10, 10, 3, 3, 2, 2, 0, 0, false, true));
        assertEquals("avgPool2dBackward for input 10x10: gradient f32[1, 1, 3, 3] is not (1,1,4,4)", grad.getMessage());
    }

    @Test
    void adaptiveAveragePoolingAndItsGradient() {
        int[][] cases = {{2, 3, 13, 11, 6, 6}, {1, 2, 5, 7, 7, 3}, {2, 4, 9, 9, 1, 1}, {1, 2, 14, 14, 7, 7}};
        for (int[] c : cases) {
            Tensor x = rand(c[0], c[1], c[2], c[3]);
            String what = "adaptiveAvgPool2d " + x.shapeString() + " → " + c[4] + "x" + c[5];
            same(cpu.adaptiveAvgPool2d(x, c[4], c[5]), gpu.adaptiveAvgPool2d(x, c[4], c[5]), TOL, what);
            Tensor g = rand(c[0], c[1], c[4], c[5]);
            same(cpu.adaptiveAvgPool2dBackward(g, c[2], c[3]), gpu.adaptiveAvgPool2dBackward(g, c[2], c[3]), TOL, what + " backward");
        }
    }

    // ------------------------------------------------------------------ activations, resize, crop

    @Test
    void activationsAndTheirGradients() {
        Tensor x = rand(3, 5, 7, 9), g = rand(3, 5, 7, 9);
        x.heapFloats()[0] = 0f; // ReLU's derivative at 0 is 0 on both
        for (Backend.Act act : Backend.Act.values()) {
            same(cpu.activate(act, 0.2f, x), gpu.activate(act, 0.2f, x), 1e-6, "activate " + act);
            same(cpu.activateBackward(act, 0.2f, x, g), gpu.activateBackward(act, 0.2f, x, g), 1e-6, "activateBackward " + act);
        }
    }

    @Test
    void resizeAndItsGradient() {
        // {H, W, outH, outW}: down (antialias matters), up, mixed, to 1
        int[][] sizes = {{37, 29, 16, 12}, {7, 9, 15, 20}, {13, 11, 6, 17}, {5, 5, 1, 1}, {224, 200, 299, 299}};
        for (int[] s : sizes) {
            for (Backend.Interp mode : Backend.Interp.values()) {
                for (boolean aa : new boolean[]{false, true}) {
                    Tensor x = rand(2, 3, s[0], s[1]);
                    String what = "resize " + mode + (aa ? " antialias " : " ") + x.shapeString() + " → " + s[2] + "x" + s[3];
                    same(cpu.resize(x, s[2], s[3], mode, aa), gpu.resize(x, s[2], s[3], mode, aa), TOL, what);
                    Tensor g = rand(2, 3, s[2], s[3]);
                    same(cpu.resizeBackward(g, s[0], s[1], mode, aa), gpu.resizeBackward(g, s[0], s[1], mode, aa), TOL, what + " backward");
                }
            }
        }
    }

    @Test
    void cropWithZeroFillAndItsGradient() {
        Tensor x = rand(2, 3, 10, 12);
        int[][] windows = {{1, 2, 7, 8}, {-2, -1, 14, 15}, {-1, 2, 12, 3}, {0, 0, 10, 12}};
        for (int[] w : windows) {
            Tensor ref = cpu.crop(x, w[0], w[1], w[2], w[3]);
            same(ref, gpu.crop(x, w[0], w[1], w[2], w[3]), 0, "crop " + w[0] + "," + w[1] + " " + w[2] + "x" + w[3]);
            same(cpu.crop(ref, -w[0], -w[1], 10, 12), gpu.crop(gpu.upload(ref), -w[0], -w[1], 10, 12), 0, "crop gradient");
        }
    }
}
