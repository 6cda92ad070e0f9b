package brain2img.sd;

import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.io.Json;
import brain2img.tensor.Tensor;
import brain2img.testing.Shared;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The analytic FLOP count against the multiply-adds the network really issues, counted at the backend. */
class UNetFlopsTest {

    /** Delegates to the CPU backend and adds up 2·(multiply-adds) of gemm, conv2d and attention calls. */
    static final class Counting implements Backend {
        final CpuBackend cpu = new CpuBackend();
        long flops, attention;

        public String name() { return "counting"; }
        public String describe() { return "counting cpu"; }

        public void gemm(boolean ta, boolean tb, int m, int n, int k, float alpha, Tensor a, long aOff, int lda, long sa,
                         Tensor b, long bOff, int ldb, long sb, float beta, Tensor c, long cOff, int ldc, long sc, int batch) {
            flops += 2L * m * n * k * batch;
            cpu.gemm(ta, tb, m, n, k, alpha, a, aOff, lda, sa, b, bOff, ldb, sb, beta, c, cOff, ldc, sc, batch);
        }

        public Tensor conv2d(Tensor x, Tensor w, Tensor bias, int sh, int sw, int pt, int pb, int pl, int pr) {
            Tensor y = cpu.conv2d(x, w, bias, sh, sw, pt, pb, pl, pr);
            flops += 2L * y.numel() * w.dim(1) * w.dim(2) * w.dim(3);
            return y;
        }

        public Tensor attention(Tensor q, Tensor k, Tensor v, int heads, float scale, Tensor mask, boolean causal) {
            long f = 2L * q.dim(0) * q.dim(1) * k.dim(1) * (q.dim(2) + v.dim(2));
            flops += f;
            attention += f;
            return cpu.attention(q, k, v, heads, scale, mask, causal);
        }

        public Tensor groupNorm(Tensor x, int g, Tensor ga, Tensor be, float eps, boolean silu) { return cpu.groupNorm(x, g, ga, be, eps, silu); }
        public Tensor layerNorm(Tensor x, Tensor g, Tensor b, float eps) { return cpu.layerNorm(x, g, b, eps); }
        public Tensor softmax(Tensor x) { return cpu.softmax(x); }
        public Tensor unary(Unary op, Tensor x) { return cpu.unary(op, x); }
        public Tensor binary(Binary op, Tensor a, Tensor b) { return cpu.binary(op, a, b); }
        public Tensor axpby(float a, Tensor x, float b, Tensor y) { return cpu.axpby(a, x, b, y); }
        public Tensor geglu(Tensor x) { return cpu.geglu(x); }
        public Tensor upsampleNearest2x(Tensor x) { return cpu.upsampleNearest2x(x); }
        public Tensor upsampleNearest(Tensor x, int h, int w) { return cpu.upsampleNearest(x, h, w); }
        public Tensor concatChannels(Tensor a, Tensor b) { return cpu.concatChannels(a, b); }
        public Tensor transposeLast2(Tensor x) { return cpu.transposeLast2(x); }
        public Tensor embedding(Tensor t, Tensor ids) { return cpu.embedding(t, ids); }
    }

    @Test
    void analyticCountEqualsTheIssuedWorkOnANonSquareLatent() {
        Counting be = new Counting();
        UNetConfig cfg = UNetConfig.parse(Json.read(Shared.sdTiny().resolve("weights/unet/config.json")), "tiny");
        UNet unet;
        try (SdSource src = SdSource.open(Shared.sdTiny().resolve("weights"), null)) {
            unet = UNet.load(src, be);
        }
        int ctx = 77;
        for (int[] hw : new int[][]{{16, 8}, {5, 7}}) {      // 5×7: sides that do not halve evenly
            be.flops = 0;
            be.attention = 0;
            unet.predict(Tensor.zeros(1, 4, hw[0], hw[1]), new float[]{10f}, Tensor.zeros(1, ctx, cfg.crossAttentionDim()));
            UNetFlops.Count c = UNetFlops.of(cfg, hw[0], hw[1], ctx);
            assertEquals(c.total(), be.flops, "total FLOPs at " + hw[0] + "x" + hw[1]);
            assertEquals(c.attention(), be.attention, "attention FLOPs at " + hw[0] + "x" + hw[1]);
        }
    }
}
