package brain2img.vision.grad;

import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tape gradients against central finite differences in random directions, on a small deepsim-like generator
 * (linear, LeakyReLU, reshape, transposed convs, conv, crop) and a CNN-like chain (conv with stride and groups,
 * max/avg/adaptive pooling, resize, SiLU/sigmoid squeeze-excitation, concat, residual add).
 */
class TapeTest {
    private final Backend be = new CpuBackend();
    private final Random rnd = new Random(5);

    private Tensor random(double scale, long... shape) {
        float[] d = new float[(int) Tensor.numel(shape)];
        for (int i = 0; i < d.length; i++) d[i] = (float) (scale * rnd.nextGaussian());
        return Tensor.of(d, shape);
    }

    /** L(x) = Σ (f(x) − t)² in double; the tape's ∂L/∂x against (L(x+εv) − L(x−εv))/2ε along random v. */
    private void checkAgainstFiniteDifferences(Tensor x, Function<Tape, Function<Tensor, Tensor>> net, String what) {
        Tape t0 = Tape.forward(be);
        Tensor y0 = net.apply(t0).apply(x);
        Tensor target = random(1, y0.shape());
        Tape t = Tape.recording(be);
        Tensor in = t.input(x);
        Tensor y = net.apply(t).apply(in);
        Tensor seed = be.scale(be.binary(Backend.Binary.SUB, y, target), 2f);
        Map<Tensor, Tensor> seeds = new IdentityHashMap<>();
        seeds.put(y, seed);
        Tensor g = t.gradient(in, seeds);
        org.junit.jupiter.api.Assertions.assertArrayEquals(x.shape(), g.shape(), what + ": gradient shape");
        for (int trial = 0; trial < 3; trial++) {
            Tensor v = random(1, x.shape());
            double eps = 1e-3;
            double lp = loss(net, be.axpby(1f, x, (float) eps, v), target), lm = loss(net, be.axpby(1f, x, (float) -eps, v), target);
            double fd = (lp - lm) / (2 * eps);
            double an = 0;
            for (int i = 0; i < x.numel(); i++) an += (double) g.getFloat(i) * v.getFloat(i);
            assertTrue(Math.abs(fd - an) <= 2e-3 * Math.max(1, Math.abs(fd)), what + ": directional derivative " + an + " vs finite difference " + fd);
        }
    }

    private double loss(Function<Tape, Function<Tensor, Tensor>> net, Tensor x, Tensor target) {
        Tensor y = net.apply(Tape.forward(be)).apply(x);
        double s = 0;
        for (int i = 0; i < y.numel(); i++) {
            double d = (double) y.getFloat(i) - target.getFloat(i);
            s += d * d;
        }
        return s;
    }

    @Test
    void generatorLikeChain() {
        Tensor w1 = random(0.3, 32, 12), b1 = random(0.1, 32);
        Tensor wt1 = random(0.3, 8, 6, 4, 4), bt1 = random(0.1, 6);
        Tensor wc = random(0.3, 5, 6, 3, 3), bc = random(0.1, 5);
        Tensor wt2 = random(0.3, 5, 3, 4, 4);
        Tensor x = random(1, 2, 12);
        checkAgainstFiniteDifferences(x, t -> z -> {
            Tensor h = t.leakyRelu(t.linear(z, w1, b1), 0.3f);
            h = t.reshape(h, 2, 8, 2, 2);
            h = t.leakyRelu(t.convTranspose2d(h, wt1, bt1, 1, 2, 2, 1, 1, 4, 4), 0.3f);
            h = t.leakyRelu(t.conv2d(h, wc, bc, 1, 1, 1, 1, 1, 1, 1), 0.3f);
            h = t.convTranspose2d(h, wt2, null, 1, 2, 2, 0, 0, 10, 10);
            return t.crop(h, 1, 2, 7, 6);
        }, "generator");
    }

    @Test
    void cnnLikeChainWithBranchesAndResidual() {
        Tensor w1 = random(0.3, 6, 3, 3, 3), wg = random(0.3, 6, 2, 3, 3), wdw = random(0.3, 6, 1, 3, 3);
        Tensor se1 = random(0.3, 2, 6, 1, 1), se2 = random(0.3, 6, 2, 1, 1), wl = random(0.3, 5, 72);
        Tensor x = random(1, 2, 3, 13, 11);
        checkAgainstFiniteDifferences(x, t -> in -> {
            Tensor h = t.relu(t.conv2d(in, w1, null, 1, 2, 2, 1, 1, 1, 1));                  // (2,6,7,6)
            Tensor a = t.maxPool2d(h, 3, 2, 1, true);                                         // (2,6,4,3)
            Tensor b = t.avgPool2d(h, 3, 1, 1, false, false);
            b = t.silu(t.conv2d(b, wg, null, 3, 1, 1, 1, 1, 1, 1));                           // grouped
            b = t.silu(t.conv2d(b, wdw, null, 6, 1, 1, 1, 1, 1, 1));                          // depthwise
            Tensor s = t.adaptiveAvgPool2d(b, 1, 1);
            s = t.sigmoid(t.conv2d(t.silu(t.conv2d(s, se1, null, 1, 1, 1, 0, 0, 0, 0)), se2, null, 1, 1, 1, 0, 0, 0, 0));
            b = t.add(t.scaleChannels(b, s), h);                                               // SE + residual
            Tensor c = t.resize(b, 5, 4, Backend.Interp.BICUBIC, true);
            Tensor d = t.resize(a, 5, 4, Backend.Interp.BILINEAR, false);
            Tensor cat = t.concatChannels(List.of(c, d));                                      // (2,12,5,4)
            Tensor p = t.adaptiveAvgPool2d(t.affineChannels(cat, new float[12], ones(12)), 3, 2);
            return t.linear(t.flatten(t.add(p, t.adaptiveAvgPool2d(cat, 3, 2))), wl, null);
        }, "cnn");
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, 1f);
        return a;
    }
}
