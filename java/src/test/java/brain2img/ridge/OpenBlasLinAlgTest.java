package brain2img.ridge;

import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The OpenBLAS binding against the pure-Java implementation; skipped where no OpenBLAS is installed. */
class OpenBlasLinAlgTest {
    private static DenseLinAlg blas() {
        var b = OpenBlasLinAlg.load();
        Assumptions.assumeTrue(b.isPresent(), "no system OpenBLAS (libopenblas.so.0) found");
        return b.get();
    }

    @Test
    void gemmAndEighAgreeWithPureJava() {
        DenseLinAlg blas = blas(), java = new CpuDenseLinAlg();
        Random r = new Random(1);
        for (DType dt : new DType[]{DType.F32, DType.F64}) {
            int m = 33, n = 47, k = 21;
            Tensor a = Tensor.allocateHeap(dt, k, m + 3), b = Tensor.allocateHeap(dt, n, k);
            for (long i = 0; i < a.numel(); i++) a.setDouble(i, r.nextGaussian());
            for (long i = 0; i < b.numel(); i++) b.setDouble(i, r.nextGaussian());
            Tensor c1 = Tensor.allocateHeap(dt, m, n), c2 = Tensor.allocateHeap(dt, m, n);
            // op(A) = Aᵀ from an offset inside a wider matrix, op(B) = Bᵀ
            blas.gemm(true, true, m, n, k, 0.7, a, 2, m + 3, b, 0, k, 0, c1, 0, n);
            java.gemm(true, true, m, n, k, 0.7, a, 2, m + 3, b, 0, k, 0, c2, 0, n);
            for (long i = 0; i < c1.numel(); i++) assertEquals(c2.getDouble(i), c1.getDouble(i), dt == DType.F32 ? 1e-4 : 1e-12);
        }
        int n = 90;
        double[] g = new double[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j <= i; j++) g[i * n + j] = g[j * n + i] = r.nextGaussian();
        Tensor t1 = Tensor.of(g.clone(), n, n), t2 = Tensor.of(g.clone(), n, n);
        double[] w1 = blas.eigh(t1), w2 = java.eigh(t2);
        assertArrayEquals(w2, w1, 1e-11);
        for (int j = 0; j < n; j++) { // same eigenvectors up to sign
            double dot = 0;
            for (int i = 0; i < n; i++) dot += t1.getDouble((long) j * n + i) * t2.getDouble((long) j * n + i);
            assertEquals(1, Math.abs(dot), 1e-9, "eigenvector " + j);
        }
        assertTrue(blas.describe().contains("OpenBLAS"));
    }

    @Test
    void ridgeFitAgreesWithPureJava() {
        DenseLinAlg blas = blas();
        double[][][] xy = RidgeCVTest.problem(50, 30, 6, 3);
        for (boolean f64 : new boolean[]{true, false}) {
            RidgeOptions opt = RidgeOptions.defaults(RidgeCVTest.ALPHAS).withF64(f64).withStandardize(true);
            Tensor x = RidgeCVTest.tensor(xy[0], DType.F32), y = RidgeCVTest.tensor(xy[1], DType.F32);
            RidgeModel a = RidgeCV.fit(blas, x, y, opt, null, 0), b = RidgeCV.fit(new CpuDenseLinAlg(), x, y, opt, null, 0);
            assertArrayEquals(b.alpha().toDoubleArray(), a.alpha().toDoubleArray());
            double err = RidgeCVTest.relErr(b.coef().toDoubleArray(), a.coef());
            assertTrue(err < (f64 ? 1e-10 : 1e-4), "coef relative difference " + err);
        }
    }

    @Test
    void choleskySolveMatchesCommonsMathAlsoSideBySide() {
        DenseLinAlg blas = blas();
        assertTrue(DenseLinAlgTest.choleskyError(blas, 120, 9, 5) < 1e-11);
        assertTrue(!blas.choleskySolve(Tensor.of(new double[]{1, 2, 2, 1}, 2, 2), Tensor.of(new double[]{1, 1}, 1, 2)));
        // the same solves run side by side (OpenBLAS single-threaded meanwhile) give the same answers, each task once
        int tasks = 6;
        double[] err = new double[tasks];
        int[] runs = new int[tasks];
        blas.forEachIndependent(tasks, k -> {
            err[k] = DenseLinAlgTest.choleskyError(blas, 150, 40, k);
            synchronized (runs) { runs[k]++; }
        });
        for (int k = 0; k < tasks; k++) {
            assertEquals(1, runs[k]);
            assertTrue(err[k] < 1e-11, "task " + k + ": error " + err[k]);
        }
    }
}
