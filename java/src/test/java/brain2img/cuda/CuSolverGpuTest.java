package brain2img.cuda;

import brain2img.testing.GpuTest;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** cusolverDnDsyevd on random symmetric matrices against Commons Math and the defining identity A·v = λ·v. */
@GpuTest
class CuSolverGpuTest extends Fp32GpuFixture {
    @Test
    void symmetricEigendecomposition() {
        assumeTrue(CuSolver.loadError() == null, "cuSOLVER not found: " + CuSolver.loadError());
        for (int n : new int[]{1, 7, 50, 257}) {
            Random r = new Random(n);
            double[] a = new double[n * n];
            for (int i = 0; i < n; i++) for (int j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = r.nextGaussian();
            MemorySegment h = CuSolver.create();
            long dA = CudaDriver.memAlloc(8L * n * n), dW = CudaDriver.memAlloc(8L * n), dInfo = CudaDriver.memAlloc(4);
            long work = 0;
            try (Arena arena = Arena.ofConfined()) {
                CuSolver.setStream(h, gpu.stream());
                MemorySegment host = arena.allocateFrom(JAVA_DOUBLE, a);
                CudaDriver.memcpyHtoDAsync(dA, host, 8L * n * n, gpu.stream());
                int lwork = CuSolver.syevdBufferSize(h, true, CuSolver.CUSOLVER_EIG_MODE_VECTOR, CuSolver.CUBLAS_FILL_MODE_LOWER, n, dA, n, dW);
                work = CudaDriver.memAlloc(8L * Math.max(1, lwork));
                CuSolver.syevd(h, true, CuSolver.CUSOLVER_EIG_MODE_VECTOR, CuSolver.CUBLAS_FILL_MODE_LOWER, n, dA, n, dW, work, lwork, dInfo);
                MemorySegment vecs = arena.allocate(8L * n * n), vals = arena.allocate(8L * n), info = arena.allocate(4);
                CudaDriver.memcpyDtoHAsync(vecs, dA, 8L * n * n, gpu.stream());
                CudaDriver.memcpyDtoHAsync(vals, dW, 8L * n, gpu.stream());
                CudaDriver.memcpyDtoHAsync(info, dInfo, 4, gpu.stream());
                CudaDriver.streamSynchronize(gpu.stream());
                assertEquals(0, info.get(JAVA_INT, 0), "devInfo");
                double[] w = vals.toArray(JAVA_DOUBLE), v = vecs.toArray(JAVA_DOUBLE); // v column-major: v[j*n + i]
                double[][] m = new double[n][n];
                for (int i = 0; i < n; i++) m[i] = Arrays.copyOfRange(a, i * n, (i + 1) * n);
                double[] ref = new EigenDecomposition(new Array2DRowRealMatrix(m)).getRealEigenvalues();
                Arrays.sort(ref);
                for (int j = 0; j < n; j++) {
                    assertEquals(ref[j], w[j], 1e-9 * Math.max(1, Math.abs(ref[j])), "eigenvalue " + j + " of n=" + n);
                    double res = 0;
                    for (int i = 0; i < n; i++) {
                        double av = 0;
                        for (int k = 0; k < n; k++) av += a[i * n + k] * v[j * n + k];
                        res = Math.max(res, Math.abs(av - w[j] * v[j * n + i]));
                    }
                    assertTrue(res < 1e-9 * Math.max(1, Math.abs(w[j])) * n, "residual " + res + " for eigenpair " + j + " of n=" + n);
                }
            } finally {
                if (work != 0) CudaDriver.memFree(work);
                CudaDriver.memFree(dA);
                CudaDriver.memFree(dW);
                CudaDriver.memFree(dInfo);
                CuSolver.destroy(h);
            }
        }
    }
}
