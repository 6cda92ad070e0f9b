package brain2img.backend;

import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CPU backend's OpenBLAS path against its pure-Java path on the same inputs: GEMMs with transposes, offsets,
 * leading dimensions wider than the operands and an accumulating beta, and convolutions with stride, uneven padding
 * and groups (the im2col bands BLAS multiplies, in a buffer reused from call to call). Skipped where no OpenBLAS is installed (or -Dbrain2img.blas=off);
 * each path is also checked against naive loops by CpuBackendTest.
 */
class CpuBackendBlasTest {
    private final CpuBackend blas = new CpuBackend(), java = CpuBackend.pureJava();

    private static Tensor random(Random r, long... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] f = t.heapFloats();
        for (int i = 0; i < f.length; i++) f[i] = (float) r.nextGaussian();
        return t;
    }

    private static void assertClose(Tensor expected, Tensor actual, String what) {
        float[] e = expected.toFloatArray(), a = actual.toFloatArray();
        double num = 0, den = 0;
        for (int i = 0; i < e.length; i++) {
            num += (e[i] - a[i]) * (double) (e[i] - a[i]);
            den += e[i] * (double) e[i];
        }
        double rel = Math.sqrt(num / den);
        assertTrue(rel < 1e-5, what + ": relative difference " + rel);
    }

    @Test
    void openBlasAndPureJavaAgree() {
        Assumptions.assumeTrue(blas.describe().contains("OpenBLAS"), "no system OpenBLAS: " + blas.describe());
        Random r = new Random(7);
        int m = 37, n = 53, k = 29, lda = m + 3, ldb = k + 2, ldc = n + 5, batch = 2;
        long sa = (long) Math.max(m, k) * lda + 1, sb = (long) Math.max(n, k) * (Math.max(n, k) + 2), sc = (long) m * ldc;
        Tensor a = random(r, batch * sa + 2), b = random(r, batch * sb), c0 = random(r, batch * sc);
        for (boolean ta : new boolean[]{false, true}) {
            for (boolean tb : new boolean[]{false, true}) {
                // op(A) = Aᵀ: A stored k × lda (lda ≥ m); else m × lda (lda ≥ k); op(B) likewise: each fits its batch stride
                int la = ta ? lda : Math.max(lda, k), lb = tb ? ldb : Math.max(n, 1) + 2;
                Tensor c1 = c0.copy(), c2 = c0.copy();
                blas.gemm(ta, tb, m, n, k, 0.75f, a, 2, la, sa, b, 0, lb, sb, 0.5f, c1, 0, ldc, sc, batch);
                java.gemm(ta, tb, m, n, k, 0.75f, a, 2, la, sa, b, 0, lb, sb, 0.5f, c2, 0, ldc, sc, batch);
                assertClose(c2, c1, "gemm ta=" + ta + " tb=" + tb);
            }
        }
        // a padless convolution first leaves non-zero values all over this thread's reused im2col buffer, so padding
        // taps the next (padded) convolution failed to zero would show
        Tensor dirt = random(r, 1, 6, 40, 40);
        blas.conv2d(dirt, random(r, 8, 6, 3, 5), null, 1, 1, 1, 0, 0, 0, 0);
        Tensor x = random(r, 2, 6, 19, 23), w = random(r, 8, 3, 3, 5), bias = random(r, 8);
        assertClose(java.conv2d(x, w, bias, 2, 2, 1, 1, 0, 2, 1), blas.conv2d(x, w, bias, 2, 2, 1, 1, 0, 2, 1), "conv2d");
        Tensor wt = random(r, 6, 4, 3, 3);
        assertClose(java.convTranspose2d(x, wt, null, 1, 2, 2, 1, 1, 37, 45),
                blas.convTranspose2d(x, wt, null, 1, 2, 2, 1, 1, 37, 45), "convTranspose2d");
    }
}
