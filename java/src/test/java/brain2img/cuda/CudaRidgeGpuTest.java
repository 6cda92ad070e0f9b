package brain2img.cuda;

import brain2img.tensor.Tensor;
import brain2img.testing.GpuTest;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.LUDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static brain2img.testing.Assert.relErr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** GPU ridge for several penalties against (XᵀX + αI)⁻¹XᵀY solved in double precision by Commons Math. */
@GpuTest
class CudaRidgeGpuTest extends Fp32GpuFixture {
    static float[] reference(double[][] x, double[][] y, double alpha) {
        RealMatrix xm = new Array2DRowRealMatrix(x), ym = new Array2DRowRealMatrix(y);
        RealMatrix g = xm.transpose().multiply(xm);
        for (int i = 0; i < g.getRowDimension(); i++) g.addToEntry(i, i, alpha);
        RealMatrix w = new LUDecomposition(g).getSolver().solve(xm.transpose().multiply(ym));
        float[] out = new float[w.getRowDimension() * w.getColumnDimension()];
        for (int i = 0; i < w.getRowDimension(); i++) {
            for (int j = 0; j < w.getColumnDimension(); j++) out[i * w.getColumnDimension() + j] = (float) w.getEntry(i, j);
        }
        return out;
    }

    @Test
    void primalAndDualFormsMatchTheDirectSolve() {
        assumeTrue(CuSolver.loadError() == null, "cuSOLVER not found: " + CuSolver.loadError());
        int[][] sizes = {{300, 120, 7}, {90, 250, 5}, {64, 64, 1}};
        double[] alphas = {0.5, 10, 1000};
        for (int[] s : sizes) {
            int n = s[0], p = s[1], t = s[2];
            Random r = new Random(n * 31 + p);
            double[][] x = new double[n][p], y = new double[n][t];
            float[] xf = new float[n * p], yf = new float[n * t];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < p; j++) xf[i * p + j] = (float) (x[i][j] = (float) r.nextGaussian());
                for (int j = 0; j < t; j++) yf[i * t + j] = (float) (y[i][j] = (float) r.nextGaussian());
            }
            List<Tensor> ws = new CudaRidge(gpu).fit(Tensor.of(xf, n, p), Tensor.of(yf, n, t), alphas);
            assertEquals(alphas.length, ws.size());
            for (int a = 0; a < alphas.length; a++) {
                Tensor w = gpu.download(ws.get(a));
                assertEquals(List.of((long) p, (long) t), List.of(w.dim(0), w.dim(1)));
                // x, y hold the float-rounded values, so the reference solves exactly the GPU's problem
                double e = relErr(w.toFloatArray(), reference(x, y, alphas[a]));
                assertTrue(e < 1e-3, "ridge n=" + n + " p=" + p + " alpha=" + alphas[a] + ": relative error " + e);
            }
        }
        var rows = assertThrows(IllegalArgumentException.class, () -> new CudaRidge(gpu).fit(Tensor.zeros(4, 3), Tensor.zeros(5, 2), new double[]{1}));
        assertEquals("ridge: X f32[4, 3] and Y f32[5, 2] must be (n,p) and (n,t)", rows.getMessage());
        var alpha = assertThrows(IllegalArgumentException.class, () -> new CudaRidge(gpu).fit(Tensor.zeros(4, 3), Tensor.zeros(4, 2), new double[]{0}));
        assertEquals("ridge: alpha must be positive, got 0.0", alpha.getMessage());
    }
}
