package brain2img.backend;

import brain2img.tensor.DType;
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
 * Every CPU primitive against the naive double-precision loops of {@link Naive}, on random shapes with odd
 * sizes. The build runs this class twice: with the Vector API and with {@code -Dbrain2img.vector=false}.
 */
class CpuBackendTest {
    /** float32 accumulation over a few hundred terms stays well inside this. */
    private static final double TOL = 2e-6;

    private final Backend be = new CpuBackend();
    private final Random rnd = new Random(1234);

    private Tensor random(long... shape) {
        return gaussian(rnd, shape);
    }

    @ParameterizedTest
    @CsvSource({"1,1,1", "3,5,7", "17,33,129", "64,48,32", "5,97,3", "130,1,70"})
    void gemmAllTransposes(int m, int n, int k) {
        for (boolean ta : new boolean[]{false, true}) {
            for (boolean tb : new boolean[]{false, true}) {
                Tensor a = random(ta ? new long[]{k, m} : new long[]{m, k});
                Tensor b = random(tb ? new long[]{n, k} : new long[]{k, n});
                Tensor c = Tensor.zeros(m, n);
                be.gemm(ta, tb, m, n, k, 1f, a, 0, ta ? m : k, 0, b, 0, tb ? k : n, 0, 0f, c, 0, n, 0, 1);
                assertClose(Naive.gemm(ta, tb, m, n, k, a.floats(), b.floats()), c, TOL, "gemm " + m + "x" + n + "x" + k + " tA=" + ta + " tB=" + tb);
            }
        }
    }

    @Test
    void gemmBatchedStridedWithOffsetsAlphaBeta() {
        int m = 7, n = 9, k = 11, batch = 3;
        // A is stored with a wider leading dimension and an offset; C accumulates with beta.
        int lda = k + 4, ldb = n + 2, ldc = n + 3;
        long sA = (long) m * lda + 5, sB = (long) k * ldb, sC = (long) m * ldc + 1;
        Tensor a = random(3 + batch * sA), b = random(batch * sB), c = random(2 + batch * sC);
        float[] c0 = c.toFloatArray();
        be.gemm(false, false, m, n, k, 0.5f, a, 3, lda, sA, b, 0, ldb, sB, 2f, c, 2, ldc, sC, batch);
        for (int bi = 0; bi < batch; bi++) {
            for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) s += (double) a.getFloat(3 + bi * sA + i * lda + p) * b.getFloat(bi * sB + p * ldb + j);
                long ci = 2 + bi * sC + (long) i * ldc + j;
                double ref = 0.5 * s + 2 * c0[(int) ci];
                assertEquals(ref, c.getFloat(ci), 1e-4, "batched gemm at batch " + bi + " (" + i + "," + j + ")");
            }
        }
        // elements between the rows of C (beyond n in each ldc-wide row) are untouched
        assertEquals(c0[2 + n], c.getFloat(2 + n), 0f);
    }

    @Test
    void gemmBetaZeroIgnoresNaNInOutput() {
        Tensor a = random(4, 5), b = random(5, 6);
        float[] nan = new float[24];
        java.util.Arrays.fill(nan, Float.NaN);
        Tensor c = Tensor.of(nan, 4, 6);
        be.gemm(false, false, 4, 6, 5, 1f, a, 0, 5, 0, b, 0, 6, 0, 0f, c, 0, 6, 0, 1);
        assertClose(Naive.gemm(false, false, 4, 6, 5, a.floats(), b.floats()), c, TOL, "gemm beta=0 over NaN");
    }

    @Test
    void matmulAndLinear() {
        Tensor x = random(2, 5, 13), w = random(7, 13), bias = random(7);
        Tensor y = be.linear(x, w, bias);
        assertArrayEquals(new long[]{2, 5, 7}, y.shape());
        double[] ref = Naive.gemm(false, true, 10, 7, 13, x.floats(), w.floats());
        for (int i = 0; i < ref.length; i++) ref[i] += bias.getFloat(i % 7);
        assertClose(ref, y, TOL, "linear");
        Tensor b = random(13, 3);
        assertClose(Naive.gemm(false, false, 10, 3, 13, x.floats(), b.floats()), be.matmul(x, b), TOL, "matmul");
        var linear = assertThrows(IllegalArgumentException.class, () -> be.linear(x, random(7, 12), null));
        assertEquals("linear: input f32[2, 5, 13] does not match weight f32[7, 12]", linear.getMessage());
    }

    @ParameterizedTest
    @CsvSource({
            // B, C, H, W, O, kh, kw, sh, sw, pt, pb, pl, pr
            "2, 5, 13, 11, 7, 3, 3, 1, 1, 1, 1, 1, 1",
            "1, 3, 16, 16, 8, 3, 3, 2, 2, 0, 1, 0, 1",   // the VAE downsampler: pad right/bottom only
            "1, 4, 9, 7, 6, 3, 3, 2, 2, 1, 1, 1, 1",     // the U-Net downsampler on odd sizes
            "3, 6, 5, 9, 5, 1, 1, 1, 1, 0, 0, 0, 0",     // 1x1 fast path
            "1, 2, 8, 10, 3, 1, 1, 2, 1, 0, 0, 0, 0",    // strided 1x1 (not the fast path)
            "1, 3, 6, 8, 2, 2, 5, 1, 2, 0, 2, 3, 1"})    // non-square kernel, uneven padding
    void conv2dMatchesNaive(int b, int c, int h, int w, int o, int kh, int kw, int sh, int sw, int pt, int pb, int pl, int pr) {
        Tensor x = random(b, c, h, w), wt = random(o, c, kh, kw), bias = random(o);
        Tensor y = be.conv2d(x, wt, bias, sh, sw, pt, pb, pl, pr);
        assertArrayEquals(new long[]{b, o, (h + pt + pb - kh) / sh + 1, (w + pl + pr - kw) / sw + 1}, y.shape());
        assertClose(Naive.conv2d(x, wt, bias, sh, sw, pt, pb, pl, pr), y, TOL, "conv2d");
        assertClose(Naive.conv2d(x, wt, null, sh, sw, pt, pb, pl, pr), be.conv2d(x, wt, null, sh, sw, pt, pb, pl, pr), TOL, "conv2d without bias");
    }

    @Test
    void conv2dRejectsMismatchedChannels() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> be.conv2d(random(1, 3, 4, 4), random(2, 4, 3, 3), null, 1, 1, 1, 1, 1, 1));
        assertTrue(e.getMessage().contains("[1, 3, 4, 4]") && e.getMessage().contains("[2, 4, 3, 3]"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({"2, 64, 5, 3, 32, false", "1, 32, 9, 9, 32, true", "3, 6, 1, 7, 3, true", "1, 12, 4, 1, 1, false"})
    void groupNormMatchesNaive(int b, int c, int h, int w, int groups, boolean silu) {
        Tensor x = random(b, c, h, w);
        for (int i = 0; i < x.numel(); i++) x.setFloat(i, x.getFloat(i) * 3 + 1.5f); // non-zero mean, wide spread
        Tensor g = random(c), bt = random(c);
        assertClose(Naive.groupNorm(x, groups, g.floats(), bt.floats(), 1e-5, silu),
                be.groupNorm(x, groups, g, bt, 1e-5f, silu), TOL, "groupNorm");
    }

    @Test
    void layerNormAndSoftmax() {
        Tensor x = random(3, 7, 33), g = random(33), bt = random(33);
        assertClose(Naive.layerNorm(x.floats(), 33, g.floats(), bt.floats(), 1e-5), be.layerNorm(x, g, bt, 1e-5f), TOL, "layerNorm");
        Tensor s = random(5, 17);
        for (int i = 0; i < s.numel(); i++) s.setFloat(i, s.getFloat(i) * 20); // large logits: needs max-subtraction
        assertClose(Naive.softmax(s.floats(), 17), be.softmax(s), TOL, "softmax");
        Tensor withInf = Tensor.of(new float[]{0f, Float.NEGATIVE_INFINITY, (float) Math.log(3)}, 1, 3);
        float[] p = be.softmax(withInf).toFloatArray();
        assertArrayEquals(new float[]{0.25f, 0f, 0.75f}, p, 1e-6f);
    }

    @ParameterizedTest
    @CsvSource({
            // B, Lq, Lk, heads, dk, dv, causal, masked
            "2, 37, 37, 3, 8, 8, true, false",
            "1, 65, 77, 8, 5, 5, false, false",   // cross-attention shape: Lq != Lk
            "2, 5, 9, 2, 4, 6, false, true",      // dk != dv, additive mask
            "1, 1, 1, 1, 3, 3, false, false"})
    void attentionMatchesNaive(int b, int lq, int lk, int heads, int dk, int dv, boolean causal, boolean masked) {
        Tensor q = random(b, lq, heads * dk), k = random(b, lk, heads * dk), v = random(b, lk, heads * dv);
        Tensor mask = masked ? random(lq, lk) : null;
        float scale = (float) (1 / Math.sqrt(dk));
        Tensor out = be.attention(q, k, v, heads, scale, mask, causal);
        assertArrayEquals(new long[]{b, lq, (long) heads * dv}, out.shape());
        assertClose(Naive.attention(q, k, v, heads, scale, masked ? mask.floats() : null, causal), out, TOL, "attention");
    }

    @ParameterizedTest
    @EnumSource(Backend.Unary.class)
    void unaryMatchesNaive(Backend.Unary op) {
        Tensor x = random(3, 1001);
        for (int i = 0; i < x.numel(); i++) x.setFloat(i, x.getFloat(i) * 3);
        Tensor y = be.unary(op, x);
        for (int i = 0; i < x.numel(); i++) {
            double ref = Naive.unary(op, x.getFloat(i));
            assertEquals(ref, y.getFloat(i), 2e-6 * Math.max(1, Math.abs(ref)), op + " at x=" + x.getFloat(i));
        }
    }

    @Test
    void erfFitAgreesWithSeriesAndContinuedFraction() {
        for (double x = -6; x <= 6; x += 0.01) {
            assertEquals(Naive.erf(x), Activations.erf(x), 2e-7, "erf(" + x + ")");
        }
    }

    @ParameterizedTest
    @CsvSource({"2 3 4 5, 2 3 4 5", "2 3 4 5, 1", "2 3 4 5, 4 5", "2 3 4 5, 2 3 1 1", "2 3 4 5, 1 3 1 1", "2 3 4 5, 3 1 5", "7, 7"})
    void binaryBroadcastsLikeNumPy(String aShape, String bShape) {
        long[] sa = shape(aShape), sb = shape(bShape);
        Tensor a = random(sa), b = random(sb);
        for (Backend.Binary op : Backend.Binary.values()) {
            Tensor y = be.binary(op, a, b);
            assertArrayEquals(sa, y.shape());
            for (int i = 0; i < a.numel(); i++) {
                // index of b by explicit coordinates, broadcast dims pinned to 0
                long rem = i, bi = 0, stride = 1;
                for (int d = sa.length - 1, e = sb.length - 1; d >= 0; d--, e--) {
                    long coord = rem % sa[d];
                    rem /= sa[d];
                    if (e >= 0) {
                        if (sb[e] != 1) bi += coord * stride;
                        stride *= sb[e];
                    }
                }
                float av = a.getFloat(i), bv = b.getFloat(bi);
                float ref = switch (op) {
                    case ADD -> av + bv;
                    case SUB -> av - bv;
                    case MUL -> av * bv;
                };
                assertEquals(ref, y.getFloat(i), 0f, op + " " + aShape + " with " + bShape + " at " + i);
            }
        }
        var broadcast = assertThrows(IllegalArgumentException.class, () -> be.add(random(2, 3), random(2, 2)));
        assertEquals("cannot broadcast [2, 2] to [2, 3]", broadcast.getMessage());
    }

    private static long[] shape(String s) {
        return java.util.Arrays.stream(s.trim().split(" ")).mapToLong(Long::parseLong).toArray();
    }

    @Test
    void axpbyScaleAndGeglu() {
        Tensor x = random(4, 9), y = random(4, 9);
        Tensor r = be.axpby(0.3f, x, -1.7f, y);
        for (int i = 0; i < 36; i++) assertEquals(0.3 * x.getFloat(i) - 1.7 * y.getFloat(i), r.getFloat(i), 1e-6);
        Tensor s = be.scale(x, 2.5f);
        for (int i = 0; i < 36; i++) assertEquals(2.5f * x.getFloat(i), s.getFloat(i), 0f);
        Tensor g = random(2, 3, 2 * 11);
        Tensor out = be.geglu(g);
        assertArrayEquals(new long[]{2, 3, 11}, out.shape());
        for (int r0 = 0; r0 < 6; r0++) for (int i = 0; i < 11; i++) {
            double ref = g.getFloat(r0 * 22 + i) * Naive.unary(Backend.Unary.GELU, g.getFloat(r0 * 22 + 11 + i));
            assertEquals(ref, out.getFloat(r0 * 11 + i), 2e-6, "geglu");
        }
        var odd = assertThrows(IllegalArgumentException.class, () -> be.geglu(random(2, 5)));
        assertEquals("geglu: last dimension of f32[2, 5] is odd", odd.getMessage());
    }

    @Test
    void layoutOps() {
        Tensor x = random(2, 3, 5, 4);
        Tensor up = be.upsampleNearest2x(x);
        assertArrayEquals(new long[]{2, 3, 10, 8}, up.shape());
        for (int p = 0; p < 6; p++) for (int yy = 0; yy < 10; yy++) for (int xx = 0; xx < 8; xx++) {
            assertEquals(x.getFloat((p * 5L + yy / 2) * 4 + xx / 2), up.getFloat((p * 10L + yy) * 8 + xx), 0f);
        }
        // resize to a given size: source row ⌊o·in/out⌋ (exact rational here; float32 gives the same at these sizes)
        for (int[] sz : new int[][]{{9, 7}, {10, 8}, {5, 4}, {3, 2}, {1, 1}, {13, 4}}) {
            Tensor r = be.upsampleNearest(x, sz[0], sz[1]);
            assertArrayEquals(new long[]{2, 3, sz[0], sz[1]}, r.shape());
            for (int p = 0; p < 6; p++) for (int yy = 0; yy < sz[0]; yy++) for (int xx = 0; xx < sz[1]; xx++) {
                long sy = Math.min((long) yy * 5 / sz[0], 4), sx = Math.min((long) xx * 4 / sz[1], 3);
                assertEquals(x.getFloat((p * 5L + sy) * 4 + sx), r.getFloat(((long) p * sz[0] + yy) * sz[1] + xx), 0f,
                        "upsampleNearest to " + sz[0] + "x" + sz[1]);
            }
        }
        assertArrayEquals(up.toFloatArray(), be.upsampleNearest(x, 10, 8).toFloatArray(), "×2 is the same resize");
        // PyTorch rounds the scale in/out and the product to float32: 2 → 82 has 2/82 ≈ 0.024390243 (float32
        // just below 1/41), so row 41 reads row 0 where the exact rational rule gives row 1.
        Tensor two = Tensor.of(new float[]{10f, 20f}, 1, 1, 2, 1);
        float[] r82 = be.upsampleNearest(two, 82, 1).toFloatArray();
        assertEquals(10f, r82[41], 0f, "float32 index rule at 2 → 82, row 41");
        assertEquals(20f, r82[42], 0f, "float32 index rule at 2 → 82, row 42");
        var bad = assertThrows(IllegalArgumentException.class, () -> be.upsampleNearest(random(3, 4), 2, 2));
        assertTrue(bad.getMessage().contains("(B,C,H,W)") && bad.getMessage().contains("[3, 4]"), bad.getMessage());
        Tensor other = random(2, 2, 5, 4);
        Tensor cat = be.concatChannels(x, other);
        assertArrayEquals(new long[]{2, 5, 5, 4}, cat.shape());
        for (int b = 0; b < 2; b++) for (int c = 0; c < 5; c++) for (int i = 0; i < 20; i++) {
            float ref = c < 3 ? x.getFloat((b * 3L + c) * 20 + i) : other.getFloat((b * 2L + c - 3) * 20 + i);
            assertEquals(ref, cat.getFloat((b * 5L + c) * 20 + i), 0f);
        }
        var concat = assertThrows(IllegalArgumentException.class, () -> be.concatChannels(x, random(2, 2, 5, 3)));
        assertEquals("concat: " + x.shapeString() + " and f32[2, 2, 5, 3]", concat.getMessage());
        Tensor m = random(3, 37, 70);
        Tensor t = be.transposeLast2(m);
        assertArrayEquals(new long[]{3, 70, 37}, t.shape());
        for (int b = 0; b < 3; b++) for (int i = 0; i < 37; i++) for (int j = 0; j < 70; j++) {
            assertEquals(m.getFloat((b * 37L + i) * 70 + j), t.getFloat((b * 70L + j) * 37 + i), 0f);
        }
    }

    @Test
    void embeddingGathersRowsAndRejectsOutOfRange() {
        Tensor table = random(10, 6);
        Tensor ids = Tensor.ofInts(new int[]{3, 0, 9, 3}, 4);
        Tensor e = be.embedding(table, ids);
        assertArrayEquals(new long[]{4, 6}, e.shape());
        int[] id = {3, 0, 9, 3};
        for (int i = 0; i < 4; i++) for (int j = 0; j < 6; j++) assertEquals(table.getFloat(id[i] * 6L + j), e.getFloat(i * 6L + j), 0f);
        assertEquals(e.toFloatArray()[0], be.embedding(table, ids.to(DType.I64)).toFloatArray()[0], 0f);
        IndexOutOfBoundsException ex = assertThrows(IndexOutOfBoundsException.class,
                () -> be.embedding(table, Tensor.ofInts(new int[]{10}, 1)));
        assertTrue(ex.getMessage().contains("10"), ex.getMessage());
    }

    @Test
    void vectorSwitchFollowsTheProperty() {
        boolean off = "false".equals(System.getProperty("brain2img.vector"));
        assertEquals(off, be.describe().contains("scalar"), be.describe());
    }

    @Test
    void mappedF16WeightsWorkAsOperands() {
        // weights arrive as non-heap or half-precision tensors; the backend must read them correctly
        Tensor w = random(5, 8);
        Tensor wHalf = w.to(DType.F16);
        Tensor x = random(3, 8);
        Tensor y = be.linear(x, wHalf, null);
        double[] ref = Naive.gemm(false, true, 3, 5, 8, x.floats(), wHalf.toFloatArray());
        assertClose(ref, y, TOL, "linear with f16 weight");
    }
}
