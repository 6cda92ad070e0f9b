package brain2img.cuda;

import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.tensor.Tensor;
import brain2img.testing.GpuTest;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static brain2img.testing.Assert.assertClose;

/** The vision kernels (pool.cu, activation.cu, col2im.cu, crop.cu) against the CPU backend at odd sizes. */
@GpuTest
class VisionOpsGpuTest extends Fp32GpuFixture {
    private final Backend cpu = new CpuBackend();
    private final Random rnd = new Random(9);

    private Tensor rand(long... shape) {
        float[] d = new float[(int) Tensor.numel(shape)];
        for (int i = 0; i < d.length; i++) d[i] = (float) rnd.nextGaussian();
        return Tensor.of(d, shape);
    }

    private void same(Tensor ref, Tensor got, String what) {
        assertClose(ref, gpu.download(got), 1e-5, what);
    }

    @Test
    void poolingForwardAndBackward() {
        Tensor x = rand(2, 3, 11, 9);
        int[][] cases = {{3, 2, 1, 1}, {3, 2, 0, 0}, {2, 2, 0, 1}, {3, 1, 1, 0}};    // k, s, pad, ceil
        for (int[] c : cases) {
            boolean ceil = c[3] == 1;
            Tensor y = cpu.maxPool2d(x, c[0], c[0], c[1], c[1], c[2], c[2], ceil);
            same(y, gpu.maxPool2d(gpu.upload(x), c[0], c[0], c[1], c[1], c[2], c[2], ceil), "max pool");
            Tensor g = rand(y.shape());
            same(cpu.maxPool2dBackward(x, g, c[0], c[0], c[1], c[1], c[2], c[2], ceil),
                    gpu.maxPool2dBackward(gpu.upload(x), gpu.upload(g), c[0], c[0], c[1], c[1], c[2], c[2], ceil), "max pool backward");
            for (boolean incl : new boolean[]{true, false}) {
                Tensor a = cpu.avgPool2d(x, c[0], c[0], c[1], c[1], c[2], c[2], ceil, incl);
                same(a, gpu.avgPool2d(gpu.upload(x), c[0], c[0], c[1], c[1], c[2], c[2], ceil, incl), "avg pool");
                Tensor ga = rand(a.shape());
                same(cpu.avgPool2dBackward(ga, 11, 9, c[0], c[0], c[1], c[1], c[2], c[2], ceil, incl),
                        gpu.avgPool2dBackward(gpu.upload(ga), 11, 9, c[0], c[0], c[1], c[1], c[2], c[2], ceil, incl), "avg pool backward");
            }
        }
        for (int[] o : new int[][]{{1, 1}, {7, 7}, {4, 5}}) {
            same(cpu.adaptiveAvgPool2d(x, o[0], o[1]), gpu.adaptiveAvgPool2d(gpu.upload(x), o[0], o[1]), "adaptive");
            Tensor g = rand(2, 3, o[0], o[1]);
            same(cpu.adaptiveAvgPool2dBackward(g, 11, 9), gpu.adaptiveAvgPool2dBackward(gpu.upload(g), 11, 9), "adaptive backward");
        }
    }

    @Test
    void activationsCropAndTransposedConvolution() {
        Tensor x = rand(2, 5, 7, 6);
        for (Backend.Act act : Backend.Act.values()) {
            same(cpu.activate(act, 0.3f, x), gpu.activate(act, 0.3f, gpu.upload(x)), act.toString());
            Tensor g = rand(x.shape());
            same(cpu.activateBackward(act, 0.3f, x, g), gpu.activateBackward(act, 0.3f, gpu.upload(x), gpu.upload(g)), act + " backward");
        }
        same(cpu.crop(x, 2, -1, 4, 8), gpu.crop(gpu.upload(x), 2, -1, 4, 8), "crop");
        Tensor w = rand(5, 3, 4, 4), b = rand(3);
        same(cpu.convTranspose2d(x, w, b, 1, 2, 2, 1, 1, 14, 13), gpu.convTranspose2d(gpu.upload(x), gpu.upload(w), gpu.upload(b), 1, 2, 2, 1, 1, 14, 13), "conv transpose");
        Tensor wg = rand(5, 2, 3, 3);
        Tensor xg = rand(1, 5, 6, 5);
        same(cpu.convTranspose2d(xg, wg, null, 5, 1, 1, 1, 1, 6, 5), gpu.convTranspose2d(gpu.upload(xg), gpu.upload(wg), null, 5, 1, 1, 1, 1, 6, 5), "grouped conv transpose");
    }
}
