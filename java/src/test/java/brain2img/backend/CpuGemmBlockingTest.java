package brain2img.backend;

import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The blocked CPU GEMM against a naive double-precision loop, with sizes that straddle every block edge
 * (MR rows, NR columns, MC row blocks, KC depth slices), all transpose combinations, beta ≠ 0, offsets,
 * leading dimensions wider than the matrices and a strided batch.
 */
class CpuGemmBlockingTest {
    private final CpuBackend be = new CpuBackend();

    private static float[] random(Random r, int n) {
        float[] d = new float[n];
        for (int i = 0; i < d.length; i++) d[i] = (float) r.nextGaussian();
        return d;
    }

    @Test
    void matchesNaiveAcrossBlockEdges() {
        Random r = new Random(5);
        int[][] sizes = {{1, 1, 1}, {7, 33, 5}, {67, 70, 300}, {130, 17, 513}, {5, 100, 0}};
        for (int[] mnk : sizes) {
            int m = mnk[0], n = mnk[1], k = mnk[2];
            for (boolean ta : new boolean[]{false, true}) {
                for (boolean tb : new boolean[]{false, true}) {
                    int batch = 2, lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1;
                    int aRows = ta ? k : m, bRows = tb ? n : k;
                    long sa = (long) aRows * lda + 4, sb = (long) bRows * ldb + 1, sc = (long) m * ldc + 2;
                    int aOff = 3, bOff = 2, cOff = 1;
                    float[] a = random(r, (int) (aOff + batch * sa)), b = random(r, (int) (bOff + batch * sb));
                    float[] c = random(r, (int) (cOff + batch * sc));
                    float[] c0 = c.clone();
                    float alpha = 0.7f, beta = -0.4f;
                    be.gemm(ta, tb, m, n, k, alpha, Tensor.of(a, a.length), aOff, lda, sa, Tensor.of(b, b.length), bOff, ldb, sb,
                            beta, Tensor.of(c, c.length), cOff, ldc, sc, batch);
                    double num = 0, den = 0;
                    for (int bi = 0; bi < batch; bi++) for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
                        double s = 0;
                        for (int p = 0; p < k; p++) {
                            double av = a[(int) (aOff + bi * sa + (ta ? (long) p * lda + i : (long) i * lda + p))];
                            double bv = b[(int) (bOff + bi * sb + (tb ? (long) j * ldb + p : (long) p * ldb + j))];
                            s += av * bv;
                        }
                        int ci = (int) (cOff + bi * sc + (long) i * ldc + j);
                        double ref = alpha * s + beta * c0[ci];
                        num += (c[ci] - ref) * (c[ci] - ref);
                        den += ref * ref;
                    }
                    double e = Math.sqrt(num / Math.max(den, 1e-30));
                    assertTrue(e < 2e-6, m + "x" + n + "x" + k + " ta=" + ta + " tb=" + tb + ": relative error " + e);
                    // padding between rows of C is untouched
                    for (int bi = 0; bi < batch; bi++) for (int i = 0; i < m; i++) {
                        int pad = (int) (cOff + bi * sc + (long) i * ldc + n);
                        assertTrue(c[pad] == c0[pad], "wrote outside C at row " + i);
                    }
                }
            }
        }
    }

    @Test
    void betaZeroDoesNotReadC() {
        float[] c = {Float.NaN, Float.NaN, Float.NaN, Float.NaN};
        be.gemm(false, false, 2, 2, 300, 1f, Tensor.of(new float[600], 600), 0, 300, 0,
                Tensor.of(new float[600], 600), 0, 2, 0, 0f, Tensor.of(c, 4), 0, 2, 0, 1);
        for (float v : c) assertTrue(v == 0f, "NaN leaked through beta = 0");
    }
}
