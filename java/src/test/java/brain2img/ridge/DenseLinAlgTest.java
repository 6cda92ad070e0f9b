package brain2img.ridge;

import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DenseLinAlgTest {
    private final DenseLinAlg la = new CpuDenseLinAlg();

    /** A symmetric matrix and its eigenvalues, found independently of the solver under test. */
    private record Case(double[][] a, double[] eigenvalues) {}

    /**
     * kind 0: random symmetric (reference: Commons Math); 1: a rank-deficient Gram matrix XᵀX with n−rank zero
     * eigenvalues (reference: Commons Math on the small XXᵀ, whose eigenvalues are the non-zero ones); 2: two
     * clusters of repeated eigenvalues 1 and 2 (known).
     */
    private static Case symmetric(int n, int kind, Random r) {
        double[][] a = new double[n][n];
        double[] ref = new double[n];
        if (kind == 1) {
            int rank = Math.max(1, n / 3);
            double[][] x = new double[rank][n];
            for (double[] row : x) for (int j = 0; j < n; j++) row[j] = r.nextGaussian();
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < rank; k++) s += x[k][i] * x[k][j];
                a[i][j] = s;
            }
            double[][] small = new double[rank][rank];
            for (int i = 0; i < rank; i++) for (int j = 0; j < rank; j++) {
                for (int k = 0; k < n; k++) small[i][j] += x[i][k] * x[j][k];
            }
            double[] nz = new EigenDecomposition(new Array2DRowRealMatrix(small)).getRealEigenvalues();
            System.arraycopy(nz, 0, ref, n - rank, rank);
        } else if (kind == 2) {
            // Q diag(1,1,...,2,2,...) Qᵀ via a product of two reflectors
            double[] v = new double[n], u = new double[n];
            for (int i = 0; i < n; i++) { v[i] = r.nextGaussian(); u[i] = r.nextGaussian(); }
            double vv = Arrays.stream(v).map(t -> t * t).sum(), uu = Arrays.stream(u).map(t -> t * t).sum();
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) {
                double q = (i == j ? 1 : 0) - 2 * v[i] * v[j] / vv;
                a[i][j] = q;
            }
            double[][] q = new double[n][n];
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) s += a[i][k] * ((k == j ? 1 : 0) - 2 * u[k] * u[j] / uu);
                q[i][j] = s;
            }
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) s += q[i][k] * (k < n / 2 ? 1 : 2) * q[j][k];
                a[i][j] = s;
            }
            for (int j = 0; j < n; j++) ref[j] = j < n / 2 ? 1 : 2;
        } else {
            for (int i = 0; i < n; i++) for (int j = 0; j <= i; j++) a[i][j] = a[j][i] = r.nextGaussian();
            ref = new EigenDecomposition(new Array2DRowRealMatrix(a)).getRealEigenvalues().clone();
        }
        Arrays.sort(ref);
        return new Case(a, ref);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 7, 64, 181})
    void eighMatchesCommonsMathAndIsAnEigenbasis(int n) {
        Random r = new Random(n);
        for (int kind = 0; kind < 3; kind++) {
            Case cs = symmetric(n, kind, r);
            double[][] a = cs.a();
            double[] ref = cs.eigenvalues();
            double[] flat = new double[n * n];
            for (int i = 0; i < n; i++) System.arraycopy(a[i], 0, flat, i * n, n);
            double[] w = la.eigh(Tensor.of(flat, n, n));
            double scale = Math.max(1e-300, Arrays.stream(ref).map(Math::abs).max().orElse(1));
            for (int j = 0; j < n; j++) {
                assertEquals(ref[j], w[j], 1e-12 * n * scale, "eigenvalue " + j + " of n=" + n + " kind " + kind);
                if (j > 0) assertTrue(w[j] >= w[j - 1], "ascending");
            }
            // residual ‖A v − λ v‖ and orthonormality of the rows
            double res = 0, orth = 0;
            for (int j = 0; j < n; j++) {
                for (int i = 0; i < n; i++) {
                    double s = 0;
                    for (int k = 0; k < n; k++) s += a[i][k] * flat[j * n + k];
                    res = Math.max(res, Math.abs(s - w[j] * flat[j * n + i]));
                }
                for (int k = 0; k <= j; k++) {
                    double s = 0;
                    for (int i = 0; i < n; i++) s += flat[j * n + i] * flat[k * n + i];
                    orth = Math.max(orth, Math.abs(s - (j == k ? 1 : 0)));
                }
            }
            assertTrue(res < 1e-12 * n * scale, "residual " + res + " n=" + n + " kind " + kind);
            assertTrue(orth < 1e-12 * n, "orthonormality " + orth + " n=" + n + " kind " + kind);
        }
    }

    @Test
    void gemmMatchesNaiveInBothPrecisionsAndAllTransposes() {
        Random r = new Random(3);
        int m = 37, n = 45, k = 29;
        for (DType dt : new DType[]{DType.F32, DType.F64}) {
            for (int tr = 0; tr < 4; tr++) {
                boolean ta = (tr & 1) != 0, tb = (tr & 2) != 0;
                double[] a = new double[m * k], b = new double[k * n], c0 = new double[m * n];
                for (int i = 0; i < a.length; i++) a[i] = r.nextGaussian();
                for (int i = 0; i < b.length; i++) b[i] = r.nextGaussian();
                for (int i = 0; i < c0.length; i++) c0[i] = r.nextGaussian();
                Tensor at = Tensor.of(a.clone(), ta ? k : m, ta ? m : k).to(dt);
                Tensor bt = Tensor.of(b.clone(), tb ? n : k, tb ? k : n).to(dt);
                Tensor ct = Tensor.of(c0.clone(), m, n).to(dt);
                la.gemm(ta, tb, m, n, k, 1.5, at, 0, ta ? m : k, bt, 0, tb ? k : n, -0.5, ct, 0, n);
                double err = 0;
                for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        double av = ta ? at.getDouble((long) p * m + i) : at.getDouble((long) i * k + p);
                        double bv = tb ? bt.getDouble((long) j * k + p) : bt.getDouble((long) p * n + j);
                        s += av * bv;
                    }
                    double ref = 1.5 * s - 0.5 * (dt == DType.F32 ? (float) c0[i * n + j] : c0[i * n + j]);
                    err = Math.max(err, Math.abs(ct.getDouble((long) i * n + j) - ref));
                }
                assertTrue(err < (dt == DType.F32 ? 1e-4 : 1e-12), dt + " transA=" + ta + " transB=" + tb + ": error " + err);
            }
        }
    }

    /** A random symmetric positive definite matrix XᵀX + I (n,n) and m random right-hand sides as rows. */
    static double[][] spdAndRows(int n, int m, Random r) {
        double[] x = new double[2 * n * n], a = new double[n * n], b = new double[m * n];
        for (int i = 0; i < x.length; i++) x[i] = r.nextGaussian();
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) {
            double s = i == j ? 1 : 0;
            for (int k = 0; k < 2 * n; k++) s += x[k * n + i] * x[k * n + j];
            a[i * n + j] = s;
        }
        for (int i = 0; i < b.length; i++) b[i] = r.nextGaussian();
        return new double[][]{a, b};
    }

    /** max |x − ref| over rows x_i = A⁻¹b_i, ref from Commons Math's Cholesky solver. */
    static double choleskyError(DenseLinAlg la, int n, int m, long seed) {
        double[][] ab = spdAndRows(n, m, new Random(seed));
        double[][] rows = new double[n][n];
        for (int i = 0; i < n; i++) System.arraycopy(ab[0], i * n, rows[i], 0, n);
        var solver = new org.apache.commons.math3.linear.CholeskyDecomposition(new Array2DRowRealMatrix(rows)).getSolver();
        Tensor a = Tensor.of(ab[0].clone(), n, n), b = Tensor.of(ab[1].clone(), m, n);
        assertTrue(la.choleskySolve(a, b), "positive definite");
        double err = 0;
        for (int r = 0; r < m; r++) {
            double[] ref = solver.solve(new org.apache.commons.math3.linear.ArrayRealVector(Arrays.copyOfRange(ab[1], r * n, r * n + n))).toArray();
            for (int i = 0; i < n; i++) err = Math.max(err, Math.abs(b.getDouble((long) r * n + i) - ref[i]));
        }
        return err;
    }

    @Test
    void choleskySolveMatchesCommonsMathAndRefusesIndefinite() {
        for (int n : new int[]{1, 7, 70}) assertTrue(choleskyError(la, n, 5, n) < 1e-12, "n=" + n);
        // eigenvalues 3 and −1: not positive definite
        assertTrue(!la.choleskySolve(Tensor.of(new double[]{1, 2, 2, 1}, 2, 2), Tensor.of(new double[]{1, 1}, 1, 2)));
    }

    @Test
    void solveRowsUsesCholeskyOrFallsBackToClampedEigenvalues() {
        Random r = new Random(11);
        double c = Math.cos(0.3), s = Math.sin(0.3);
        double[] rot = {c, -s, s, c}; // columns: eigenvectors
        double[] b = {r.nextGaussian(), r.nextGaussian(), r.nextGaussian(), r.nextGaussian(), r.nextGaussian(), r.nextGaussian()};
        // G = R diag(λ) Rᵀ; expected B·R·diag(1/(max(λ,0) + α))·Rᵀ
        for (double[] lambda : new double[][]{{4, 1}, {1, -1}}) { // positive definite → Cholesky; indefinite → fallback
            double alpha = 0.5;
            double[] g = new double[4];
            for (int i = 0; i < 2; i++) for (int j = 0; j < 2; j++) {
                for (int k = 0; k < 2; k++) g[i * 2 + j] += rot[i * 2 + k] * lambda[k] * rot[j * 2 + k];
            }
            Tensor[] out = PrimalRidgeCV.solveRows(la, g, Tensor.of(b.clone(), 3, 2), new double[]{alpha, 2 * alpha}, DType.F64);
            for (int a = 0; a < 2; a++) {
                double al = alpha * (a + 1);
                for (int row = 0; row < 3; row++) for (int j = 0; j < 2; j++) {
                    double ref = 0;
                    for (int k = 0; k < 2; k++) {
                        double proj = b[row * 2] * rot[k] + b[row * 2 + 1] * rot[2 + k]; // (B R)_k
                        ref += proj / (Math.max(lambda[k], 0) + al) * rot[j * 2 + k];
                    }
                    assertEquals(ref, out[a].getDouble(row * 2L + j), 1e-12, "λ=" + Arrays.toString(lambda) + " α=" + al);
                }
            }
        }
    }
}
