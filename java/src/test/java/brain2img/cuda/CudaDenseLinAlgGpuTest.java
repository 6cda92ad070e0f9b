package brain2img.cuda;

import brain2img.ridge.CpuDenseLinAlg;
import brain2img.ridge.DenseLinAlg;
import brain2img.ridge.RepeatedRidgeCV;
import brain2img.ridge.RidgeCVPredict;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import brain2img.testing.GpuTest;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The CUDA backend's ridge linear algebra against the CPU implementation: GEMM, eigendecomposition, a whole fit. */
@GpuTest
class CudaDenseLinAlgGpuTest extends Fp32GpuFixture {
    private static final DenseLinAlg CPU = CpuDenseLinAlg.best();

    private static Tensor random(SplittableRandom rng, DType dt, int n) {
        Tensor t = Tensor.allocateHeap(dt, n);
        for (int i = 0; i < n; i++) t.setDouble(i, rng.nextGaussian());
        return t;
    }

    @Test
    void gemmMatchesTheCpuWithTransposesOffsetsAndStrides() {
        DenseLinAlg la = gpu.denseLinAlg();
        SplittableRandom rng = new SplittableRandom(1);
        int m = 150, n = 130, k = 120, pad = 7; // m·n·k above the GPU threshold
        for (boolean ta : new boolean[]{false, true}) for (boolean tb : new boolean[]{false, true}) for (double beta : new double[]{0, 0.5}) {
            int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
            Tensor a = random(rng, DType.F32, 3 + (ta ? k : m) * lda), b = random(rng, DType.F32, 5 + (tb ? n : k) * ldb);
            Tensor c0 = random(rng, DType.F32, 2 + m * ldc);
            Tensor ref = c0.copy(), got = c0.copy();
            CPU.gemm(ta, tb, m, n, k, 1.5, a, 3, lda, b, 5, ldb, beta, ref, 2, ldc);
            la.gemm(ta, tb, m, n, k, 1.5, a, 3, lda, b, 5, ldb, beta, got, 2, ldc);
            for (long i = 0; i < ref.numel(); i++) {
                double r = ref.getDouble(i), g = got.getDouble(i);
                assertTrue(Math.abs(r - g) <= 1e-4 * (1 + Math.abs(r)), "ta=" + ta + " tb=" + tb + " beta=" + beta + " at " + i + ": " + g + " vs " + r);
            }
        }
    }

    @Test
    void eigendecompositionMatchesTheCpu() {
        assumeTrue(CuSolver.loadError() == null, "cuSOLVER not found: " + CuSolver.loadError());
        int n = 96;
        SplittableRandom rng = new SplittableRandom(2);
        double[] m = new double[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j <= i; j++) m[i * n + j] = m[j * n + i] = rng.nextGaussian();
        Tensor a = Tensor.of(m.clone(), n, n), b = Tensor.of(m.clone(), n, n);
        double[] ref = CPU.eigh(a), got = gpu.denseLinAlg().eigh(b);
        assertArrayEquals(ref, got, 1e-9, "eigenvalues");
        // each row of b is a unit eigenvector: M·e = λ·e
        for (int j = 0; j < n; j++) {
            double norm = 0;
            for (int i = 0; i < n; i++) {
                double s = 0;
                for (int k = 0; k < n; k++) s += m[i * n + k] * b.getDouble((long) j * n + k);
                assertEquals(got[j] * b.getDouble((long) j * n + i), s, 1e-8, "M·e_" + j + " at " + i);
                norm += b.getDouble((long) j * n + i) * b.getDouble((long) j * n + i);
            }
            assertEquals(1, norm, 1e-10, "|e_" + j + "|");
        }
    }

    @Test
    void repeatedTrialRidgeMatchesTheCpuFit() {
        SplittableRandom rng = new SplittableRandom(3);
        int n = 300, nTe = 20, p = 500, t = 64;
        Tensor x = random(rng, DType.F32, (n + nTe) * p).reshape(n + nTe, p);
        int[] image = new int[2 * n];
        for (int i = 0; i < image.length; i++) image[i] = i % n;
        Tensor y = random(rng, DType.F32, image.length * t).reshape(image.length, t);
        for (int tr = 0; tr < image.length; tr++) for (int j = 0; j < t; j++) { // a signal in the first features
            long o = (long) tr * t + j;
            y.setDouble(o, y.getDouble(o) + 3 * x.getDouble((long) image[tr] * p + j));
        }
        double[] alphas = {1, 10, 100, 1000};
        Tensor g = Tensor.allocateHeap(DType.F32, n + nTe, n + nTe);
        CPU.matmul(false, true, x, x, g);
        RepeatedRidgeCV.Gram design = new RepeatedRidgeCV.Gram(g, n);
        RidgeCVPredict.Result ref = RepeatedRidgeCV.fit(CPU, design, image, y, alphas, 5, false, null);
        RidgeCVPredict.Result got = RepeatedRidgeCV.fit(gpu.denseLinAlg(), design, image, y, alphas, 5, false, null);
        // f32 rounding may flip a near-tie between two alphas; compare the voxels where the choice agrees (nearly all)
        int same = 0;
        double[] a = ref.predictions().toDoubleArray(), b = got.predictions().toDoubleArray();
        for (int j = 0; j < t; j++) {
            if (ref.alpha()[j] != got.alpha()[j]) continue;
            same++;
            for (int i = 0; i < nTe; i++) assertEquals(a[i * t + j], b[i * t + j], 1e-3 * (1 + Math.abs(a[i * t + j])), "prediction " + i + "," + j);
        }
        assertTrue(same >= t - 2, same + " of " + t + " voxels chose the same alpha");
    }
}
