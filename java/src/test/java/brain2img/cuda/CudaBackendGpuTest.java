package brain2img.cuda;

import brain2img.backend.Activations;
import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import brain2img.testing.GpuTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static brain2img.testing.Assert.assertClose;
import static brain2img.testing.Assert.relErr;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every primitive of the CUDA backend (fp32 mode) against the CPU reference backend, at many shapes, odd sizes
 * included; then the half-precision and TF32 GEMM modes at their looser tolerance. Runs only on a GPU.
 */
@GpuTest
class CudaBackendGpuTest {
    static final double TOL = 1e-5;
    static CudaBackend gpu;
    /** On kernels/emu's CPU stand-in for the driver the largest (SD-sized) cases are skipped: they would take minutes. */
    static boolean emulated;
    static final CpuBackend cpu = new CpuBackend();
    final Random rnd = new Random(1234);

    @BeforeAll
    static void open() {
        gpu = new CudaBackend(CudaBackend.Precision.FP32);
        emulated = gpu.describe().contains("CPU emulation");
        System.out.println("[gpu] " + gpu.describe());
    }

    @AfterAll
    static void close() {
        if (gpu != null) {
            System.out.println("[gpu] memory after the primitive tests: " + gpu.memoryStats());
            gpu.close();
        }
    }

    Tensor rand(long... shape) {
        float[] d = new float[Math.toIntExact(Tensor.numel(shape))];
        for (int i = 0; i < d.length; i++) d[i] = (float) rnd.nextGaussian();
        return Tensor.of(d, shape);
    }

    /** The device result, downloaded, against the CPU result. */
    static void same(Tensor ref, Tensor dev, double tol, String what) {
        assertTrue(dev.isOnDevice(), what + ": result should be a device tensor");
        assertClose(ref, gpu.download(dev), tol, what);
    }

    // ------------------------------------------------------------------ gemm

    @Test
    void gemmAllTranspositionsAndOddShapes() {
        int[][] mnk = {{1, 1, 1}, {7, 13, 5}, {64, 64, 64}, {129, 67, 300}, {1000, 3, 17}, {3, 1000, 257}, {33, 31, 1}};
        for (int[] s : mnk) {
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                int m = s[0], n = s[1], k = s[2];
                int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 2; // padded leading dimensions
                Tensor a = rand(ta ? k : m, lda), b = rand(tb ? n : k, ldb);
                Tensor c0 = rand(m, ldc);
                Tensor cRef = c0.copy();
                cpu.gemm(ta, tb, m, n, k, 0.7f, a, 0, lda, 0, b, 0, ldb, 0, 0.3f, cRef, 0, ldc, 0, 1);
                Tensor cDev = gpu.upload(c0.copy());
                gpu.gemm(ta, tb, m, n, k, 0.7f, a, 0, lda, 0, b, 0, ldb, 0, 0.3f, cDev, 0, ldc, 0, 1);
                same(cRef, cDev, TOL, "gemm " + m + "x" + n + "x" + k + " transA=" + ta + " transB=" + tb);
            }
        }
    }

    @Test
    void gemmStridedBatchedWithOffsets() {
        int m = 19, n = 23, k = 29, batch = 5;
        long sa = m * k + 7, sb = k * n + 11, sc = m * n + 3;
        Tensor a = rand(5 + batch * sa), b = rand(2 + batch * sb), c0 = rand(1 + batch * sc);
        Tensor cRef = c0.copy();
        cpu.gemm(false, true, m, n, k, 1f, a, 5, k, sa, b, 2, k, sb, 0f, cRef, 1, n, sc, batch);
        Tensor cDev = gpu.upload(c0.copy());
        gpu.gemm(false, true, m, n, k, 1f, a, 5, k, sa, b, 2, k, sb, 0f, cDev, 1, n, sc, batch);
        same(cRef, cDev, TOL, "strided batched gemm");
    }

    @Test
    void gemmIgnoresNanInCWhenBetaIsZero() {
        float[] nan = new float[6 * 4];
        java.util.Arrays.fill(nan, Float.NaN);
        Tensor a = rand(6, 5), b = rand(5, 4);
        Tensor c = gpu.upload(Tensor.of(nan, 6, 4));
        gpu.gemm(false, false, 6, 4, 5, 1f, a, 0, 5, 0, b, 0, 4, 0, 0f, c, 0, 4, 0, 1);
        assertClose(cpu.matmul(a, b), gpu.download(c), TOL, "beta=0 over NaNs");
    }

    @Test
    void matmulAndLinear() {
        Tensor x = rand(2, 77, 96), w = rand(40, 96), bias = rand(40), b = rand(96, 33);
        same(cpu.linear(x, w, bias), gpu.linear(x, w, bias), TOL, "linear");
        same(cpu.matmul(x, b), gpu.matmul(gpu.upload(x), b), TOL, "matmul");
        var host = assertThrows(IllegalArgumentException.class, () -> gpu.gemm(false, false, 1, 1, 1, 1f, x, 0, 1, 0, x, 0, 1, 0, 0f, Tensor.zeros(1), 0, 1, 0, 1));
        assertTrue(host.getMessage().startsWith("gemm output must be an f32 tensor of cuda:") && host.getMessage().endsWith("got Tensorf32[1]"),
                host.getMessage());
    }

    // ------------------------------------------------------------------ conv2d

    @Test
    void conv2dShapes() {
        record C(long[] x, long[] w, int sh, int sw, int pt, int pb, int pl, int pr, boolean bias) {}
        C[] cases = {
                new C(new long[]{2, 5, 13, 11}, new long[]{7, 5, 3, 3}, 1, 1, 1, 1, 1, 1, true),   // U-Net 3x3
                new C(new long[]{1, 4, 16, 16}, new long[]{8, 4, 3, 3}, 2, 2, 1, 1, 1, 1, true),   // U-Net downsampler
                new C(new long[]{2, 6, 15, 17}, new long[]{6, 6, 3, 3}, 2, 2, 0, 1, 0, 1, false),  // VAE downsampler
                new C(new long[]{3, 9, 7, 5}, new long[]{4, 9, 1, 1}, 1, 1, 0, 0, 0, 0, true),     // 1x1 projection
                new C(new long[]{1, 3, 9, 9}, new long[]{2, 3, 5, 3}, 1, 2, 0, 0, 2, 1, true),     // odd kernel, mixed pads
                new C(new long[]{1, 1, 1, 1}, new long[]{1, 1, 1, 1}, 1, 1, 0, 0, 0, 0, false),
                new C(new long[]{1, 320, 64, 64}, new long[]{320, 320, 3, 3}, 1, 1, 1, 1, 1, 1, true), // SD level 1
        };
        for (C c : cases) {
            if (emulated && c.x[1] == 320) continue;
            Tensor x = rand(c.x), w = rand(c.w), bias = c.bias ? rand(c.w[0]) : null;
            Tensor ref = cpu.conv2d(x, w, bias, c.sh, c.sw, c.pt, c.pb, c.pl, c.pr);
            Tensor got = gpu.conv2d(gpu.upload(x), w, bias, c.sh, c.sw, c.pt, c.pb, c.pl, c.pr);
            same(ref, got, TOL, "conv2d x" + java.util.Arrays.toString(c.x) + " w" + java.util.Arrays.toString(c.w));
        }
    }

    // ------------------------------------------------------------------ norms and softmax

    @Test
    void groupNormWithAndWithoutSilu() {
        // (groups of a single value are left out: there the CPU's x·scale + shift form cancels catastrophically)
        long[][] shapes = {{2, 64, 9, 7}, {1, 32, 3, 1}, {3, 96, 17}, {1, 320, 64, 64}, {2, 4, 5, 3}};
        int[] groups = {32, 32, 32, 32, 2};
        for (int i = 0; i < shapes.length; i++) {
            long[] s = shapes[i];
            if (emulated && s[1] == 320) continue;
            Tensor x = rand(s), g = rand(s[1]), b = rand(s[1]);
            // an offset mean tests the two-pass variance
            Tensor xs = cpu.add(x, Tensor.of(new float[]{3f}, 1));
            for (boolean silu : new boolean[]{false, true}) {
                same(cpu.groupNorm(xs, groups[i], g, b, 1e-5f, silu), gpu.groupNorm(xs, groups[i], g, b, 1e-5f, silu), TOL,
                        "groupNorm " + java.util.Arrays.toString(s) + " silu=" + silu);
            }
        }
    }

    @Test
    void layerNormWidths() {
        for (long[] s : new long[][]{{2, 77, 768}, {5, 33}, {1, 1, 1025}, {4, 320}, {3, 1}}) {
            Tensor x = rand(s), g = rand(s[s.length - 1]), b = rand(s[s.length - 1]);
            same(cpu.layerNorm(x, g, b, 1e-5f), gpu.layerNorm(x, g, b, 1e-5f), TOL, "layerNorm " + java.util.Arrays.toString(s));
        }
    }

    @Test
    void softmaxRowsIncludingMaskedEntries() {
        for (long[] s : emulated ? new long[][]{{3, 17}, {1, 1}, {7, 1000}} : new long[][]{{3, 17}, {2, 8, 4096}, {1, 1}, {7, 1000}}) {
            Tensor x = rand(s);
            float[] v = x.toFloatArray();
            for (int i = 0; i < v.length; i += 5) v[i] = Float.NEGATIVE_INFINITY;
            if (s[s.length - 1] == 1) v[0] = 2f;
            Tensor xm = Tensor.of(v, s);
            same(cpu.softmax(xm), gpu.softmax(xm), TOL, "softmax " + java.util.Arrays.toString(s));
        }
    }

    // ------------------------------------------------------------------ attention

    @Test
    void attentionHeadDimsOfSdClipVaeAndTinyModels() {
        // {B, Lq, Lk, heads, dk, dv, causal(1)/mask(2)}
        int[][] cases = {
                {2, 77, 77, 12, 64, 64, 1},      // CLIP ViT-L text encoder, causal
                {2, 4096, 77, 8, 40, 40, 0},     // SD level-1 cross-attention
                {1, 4096, 4096, 8, 40, 40, 0},   // SD level-1 self-attention at a 64x64 latent
                {2, 1024, 1024, 8, 80, 80, 0},   // SD level-2 self-attention
                {1, 256, 77, 8, 160, 160, 0},    // SD level-3 cross-attention
                {1, 1024, 1024, 1, 512, 512, 0}, // VAE mid-block attention (one head of 512)
                {3, 64, 64, 8, 4, 4, 0},         // tiny U-Net
                {2, 77, 77, 4, 8, 8, 1},         // tiny CLIP
                {1, 16, 16, 1, 64, 64, 0},       // tiny VAE
                {3, 33, 47, 3, 17, 17, 2},       // odd sizes with an additive mask
                {2, 19, 23, 2, 12, 20, 0},       // dk != dv
                {1, 5, 300, 2, 128, 128, 2},
                {1, 130, 130, 3, 256, 256, 1},
                {1, 1, 1, 1, 1, 1, 0},
        };
        for (int[] c : cases) {
            int b = c[0], lq = c[1], lk = c[2], h = c[3], dk = c[4], dv = c[5];
            if (emulated && (long) b * h * lq * lk > 100_000) continue;
            Tensor q = rand(b, lq, (long) h * dk), k = rand(b, lk, (long) h * dk), v = rand(b, lk, (long) h * dv);
            Tensor mask = c[6] == 2 ? rand(lq, lk) : null;
            float scale = (float) (1 / Math.sqrt(dk));
            boolean causal = c[6] == 1;
            Tensor ref = cpu.attention(q, k, v, h, scale, mask, causal);
            Tensor got = gpu.attention(gpu.upload(q), gpu.upload(k), gpu.upload(v), h, scale, mask, causal);
            same(ref, got, 1e-4, "attention " + java.util.Arrays.toString(c));
        }
        var wide = assertThrows(IllegalArgumentException.class, () -> gpu.attention(rand(1, 2, 600), rand(1, 2, 600), rand(1, 2, 600), 1, 1f, null, false));
        assertTrue(wide.getMessage().startsWith("attention head dimension 600 exceeds the CUDA kernels' maximum of "), wide.getMessage());
    }

    // ------------------------------------------------------------------ element-wise

    @Test
    void unaryOps() {
        Tensor x = cpu.scale(rand(3, 1001), 4f); // values in about [-16, 16]
        for (Backend.Unary op : Backend.Unary.values()) {
            Tensor in = op == Backend.Unary.EXP ? cpu.scale(x, 0.25f) : x;
            same(cpu.unary(op, in), gpu.unary(op, in), TOL, "unary " + op);
        }
        assertEquals(Activations.gelu(1f), gpu.download(gpu.unary(Backend.Unary.GELU, Tensor.of(new float[]{1f}, 1))).getFloat(0), 1e-6);
    }

    @Test
    void binaryOpsWithBroadcasting() {
        long[][][] pairs = {
                {{2, 77, 768}, {768}}, {{2, 320, 9, 7}, {320, 1, 1}}, {{2, 320, 9, 7}, {2, 320, 1, 1}},
                {{3, 5}, {3, 5}}, {{3, 5}, {1}}, {{1, 77, 32}, {77, 32}}, {{4, 1, 6}, {4, 1, 1}}, {{5, 3, 1, 2}, {3, 1, 1}},
        };
        for (long[][] p : pairs) {
            Tensor a = rand(p[0]), b = rand(p[1]);
            for (Backend.Binary op : Backend.Binary.values()) {
                same(cpu.binary(op, a, b), gpu.binary(op, a, b), TOL, op + " " + a.shapeString() + " with " + b.shapeString());
            }
        }
        var broadcast = assertThrows(IllegalArgumentException.class, () -> gpu.add(rand(5, 3, 1, 2), rand(3, 2, 2)));
        assertEquals("cannot broadcast [3, 2, 2] to [5, 3, 1, 2]", broadcast.getMessage());
    }

    @Test
    void axpbyAndTheDdimUpdate() {
        Tensor x = rand(2, 4, 9, 9), y = rand(2, 4, 9, 9);
        same(cpu.axpby(0.3f, x, -1.7f, y), gpu.axpby(0.3f, x, -1.7f, y), TOL, "axpby");
        float[] nan = new float[x.dimInt(0) * 4 * 81];
        java.util.Arrays.fill(nan, Float.NaN);
        Tensor got = gpu.download(gpu.axpby(2f, x, 0f, Tensor.of(nan, x.shape())));
        assertClose(cpu.scale(x, 2f), got, TOL, "axpby with beta 0 ignores y");
        // DDIM (eta 0): x_prev = sqrt(a')·x0 + sqrt(1-a')·eps with x0 = (x - sqrt(1-a)·eps)/sqrt(a),
        // i.e. axpby(sqrt(a'/a), x, sqrt(1-a') - sqrt(a'(1-a)/a), eps).
        double a = 0.35, ap = 0.62;
        Tensor eps = y;
        float c1 = (float) Math.sqrt(ap / a), c2 = (float) (Math.sqrt(1 - ap) - Math.sqrt(ap * (1 - a) / a));
        float[] xv = x.toFloatArray(), ev = eps.toFloatArray(), want = new float[xv.length];
        for (int i = 0; i < xv.length; i++) {
            double x0 = (xv[i] - Math.sqrt(1 - a) * ev[i]) / Math.sqrt(a);
            want[i] = (float) (Math.sqrt(ap) * x0 + Math.sqrt(1 - ap) * ev[i]);
        }
        same(Tensor.of(want, x.shape()), gpu.axpby(c1, x, c2, eps), 1e-5, "DDIM step via axpby");
    }

    @Test
    void geglu() {
        for (long[] s : new long[][]{{2, 77, emulated ? 2 * 40 : 2 * 1280}, {3, 7, 10}, {1, 2}}) {
            Tensor x = rand(s);
            same(cpu.geglu(x), gpu.geglu(x), TOL, "geglu " + java.util.Arrays.toString(s));
        }
    }

    // ------------------------------------------------------------------ layout

    @Test
    void upsampleConcatTranspose() {
        for (long[] s : new long[][]{{2, 3, 5, 7}, {1, 320, 32, 32}, {1, 1, 1, 1}}) {
            if (emulated && s[1] == 320) continue;
            Tensor x = rand(s);
            same(cpu.upsampleNearest2x(x), gpu.upsampleNearest2x(x), 0, "upsample " + java.util.Arrays.toString(s));
        }
        // resize to a skip's size (odd U-Net latents), and 2 → 82 where PyTorch's float32 index rule matters
        for (int[] c : new int[][]{{2, 3, 3, 4, 5, 7}, {1, 8, 20, 23, 40, 45}, {1, 1, 2, 1, 82, 1}}) {
            Tensor x = rand(c[0], c[1], c[2], c[3]);
            same(cpu.upsampleNearest(x, c[4], c[5]), gpu.upsampleNearest(x, c[4], c[5]), 0,
                    "upsampleNearest " + java.util.Arrays.toString(c));
        }
        Tensor a = rand(2, 3, 4, 5), b = rand(2, 6, 4, 5);
        same(cpu.concatChannels(a, b), gpu.concatChannels(a, b), 0, "concat");
        Tensor c = rand(3, 1, 7), d = rand(3, 2, 7);
        same(cpu.concatChannels(c, d), gpu.concatChannels(c, d), 0, "concat rank 3");
        for (long[] s : new long[][]{{3, 37, 65}, {1, 4096, 320}, {2, 1, 1}, {5, 33, 1}, {64, 64}}) {
            if (emulated && s.length == 3 && s[1] == 4096) continue;
            Tensor x = rand(s);
            same(cpu.transposeLast2(x), gpu.transposeLast2(x), 0, "transpose " + java.util.Arrays.toString(s));
        }
    }

    @Test
    void embeddingGather() {
        Tensor table = rand(100, 16);
        for (Tensor ids : new Tensor[]{Tensor.ofInts(new int[]{0, 99, 5, 5, 42}, 5),
                Tensor.ofInts(new int[]{3, 1, 4, 1, 5, 9, 2, 6}, 2, 4).to(DType.I64)}) {
            same(cpu.embedding(table, ids), gpu.embedding(table, ids), 0, "embedding " + ids.shapeString());
        }
        var id = assertThrows(IndexOutOfBoundsException.class, () -> gpu.embedding(table, Tensor.ofInts(new int[]{100}, 1)));
        assertEquals("token id 100 outside vocabulary of 100", id.getMessage());
    }

    // ------------------------------------------------------------------ transfers and precision

    @Test
    void uploadDownloadRoundTripsEveryDtype() {
        float[] v = {0f, 1f, -2.5f, 1024f, 0.125f, -65504f};
        Tensor f32 = Tensor.of(v, 2, 3);
        assertArrayEquals(v, gpu.download(gpu.upload(f32)).toFloatArray());
        for (DType t : new DType[]{DType.F16, DType.BF16, DType.F64}) {
            Tensor d = gpu.upload(f32.to(t));
            assertEquals(DType.F32, d.dtype(), "activations are f32 on the device");
            assertArrayEquals(f32.to(t).toFloatArray(), gpu.download(d).toFloatArray(), t.toString());
        }
        Tensor z = gpu.allocate(3, 5);
        assertArrayEquals(new float[15], gpu.download(z).toFloatArray());
        Tensor view = gpu.upload(rand(4, 6)).slice(1, 3);
        assertEquals(2 * 6, gpu.download(view).numel());
    }

    /** A tensor the backend treats as a mapped weight: native, read-only memory (as safetensors maps files). */
    static Tensor weight(Tensor t) {
        MemorySegment seg = Arena.ofAuto().allocate(t.numel() * 4, 64);
        MemorySegment.copy(t.toFloatArray(), 0, seg, Tensor.F32, 0, Math.toIntExact(t.numel()));
        return Tensor.wrap(seg.asReadOnly(), DType.F32, t.shape());
    }

    @Test
    void weightsAreUploadedOnce() {
        Tensor w = weight(rand(40, 96));
        Tensor d1 = gpu.upload(w), d2 = gpu.upload(w);
        assertEquals(d1.deviceMemory().address(), d2.deviceMemory().address());
        d1.close(); // a cached weight is handed out as a view: closing it frees nothing
        assertEquals(d2.deviceMemory().address(), gpu.upload(w).deviceMemory().address());
        assertClose(w, gpu.download(d2), 0, "cached weight intact after close");
        assertEquals(gpu.upload(w.reshape(96, 40)).deviceMemory().address(), gpu.upload(w.reshape(96, 40)).deviceMemory().address());
        Tensor act = rand(40, 96);
        Tensor u1 = gpu.upload(act), u2 = gpu.upload(act);
        assertNotEquals(u1.deviceMemory().address(), u2.deviceMemory().address(), "heap activations are copied per upload");
        assertClose(gpu.download(u1), gpu.download(u2), 0, "both copies");
    }

    @Test
    void halfAndTf32Modes() {
        Tensor x = rand(2, 77, 320), w = rand(640, 320), bias = rand(640);
        Tensor ref = cpu.linear(x, w, bias);
        Tensor cx = rand(1, 64, 16, 16), cw = rand(64, 64, 3, 3);
        Tensor cref = cpu.conv2d(cx, cw, null, 1, 1, 1, 1, 1, 1);
        for (CudaBackend.Precision p : new CudaBackend.Precision[]{CudaBackend.Precision.FP16, CudaBackend.Precision.BF16, CudaBackend.Precision.TF32}) {
            try (CudaBackend g = new CudaBackend(p)) {
                Tensor wd = g.upload(weight(w));
                DType expect = p == CudaBackend.Precision.FP16 ? DType.F16 : p == CudaBackend.Precision.BF16 ? DType.BF16 : DType.F32;
                assertEquals(expect, wd.dtype(), p + ": stored weight dtype");
                assertEquals(DType.F32, g.upload(weight(bias)).dtype(), p + ": vectors stay f32");
                assertEquals(expect, g.upload(w).dtype(), p + ": explicitly uploaded matrices are stored like weights");
                assertEquals(DType.F32, g.add(x, x).dtype(), p + ": results are f32");
                double e = relErr(g.download(g.linear(x, weight(w), weight(bias))).toFloatArray(), ref.toFloatArray());
                assertTrue(e <= 1e-2, p + " linear relative error " + e);
                double ce = relErr(g.download(g.conv2d(cx, weight(cw), null, 1, 1, 1, 1, 1, 1)).toFloatArray(), cref.toFloatArray());
                assertTrue(ce <= 1e-2, p + " conv relative error " + ce);
                System.out.printf("[gpu] %s: linear rel. error %.2e, conv %.2e%n", p, e, ce);
            }
        }
    }

    /**
     * A ResNet-like chain captured as a CUDA graph and replayed on new inputs: each replay must equal the CPU on that
     * input, and memory allocated between replays must not be clobbered by them.
     */
    @Test
    void graphCaptureOfAResnetChain() {
        Tensor w = weight(rand(16, 16, 3, 3)), bias = weight(rand(16)), g = weight(rand(16)), bt = weight(rand(16));
        java.util.function.Function<Tensor, Tensor> step = (Tensor x) -> {
            Backend b = x.isOnDevice() ? gpu : cpu;
            Tensor h = b.groupNorm(x, 4, g, bt, 1e-5f, true);
            return b.add(b.conv2d(h, w, bias, 1, 1, 1, 1, 1, 1), x);
        };
        Tensor x0 = rand(2, 16, 9, 9);
        Tensor in = gpu.upload(x0);
        step.apply(in).close(); // warm-up: weights uploaded, kernels loaded, buffers cached
        Tensor[] out = new Tensor[1];
        try (CudaGraph graph = gpu.capture(() -> out[0] = step.apply(in))) {
            assertTrue(graph.pinnedBlocks() > 0);
            for (int r = 0; r < 3; r++) {
                Tensor xr = rand(2, 16, 9, 9);
                gpu.copyInto(in, xr);
                graph.replay();
                Tensor bystander = gpu.upload(rand(2, 16, 9, 9));
                Tensor kept = gpu.download(bystander);
                graph.replay();
                assertClose(step.apply(xr), gpu.download(out[0]), TOL, "graph replay " + r);
                assertClose(kept, gpu.download(bystander), 0, "memory allocated between replays");
            }
            var upload = assertThrows(IllegalStateException.class, () -> gpu.capture(() -> gpu.upload(rand(3))));
            assertTrue(upload.getMessage().startsWith("upload of host tensor f32[3] during CUDA graph capture"), upload.getMessage());
        }
    }

    @Test
    void twoBackendsShareTheDevice() {
        Tensor mine = gpu.upload(rand(3));
        try (CudaBackend other = new CudaBackend(CudaBackend.Precision.FP32)) {
            // same device ordinal: accepted (both are cuda:N and share the primary context)
            assertClose(cpu.scale(gpu.download(mine), 2f), other.download(other.scale(mine, 2f)), TOL, "shared device");
        }
    }
}
