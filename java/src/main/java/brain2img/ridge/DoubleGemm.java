package brain2img.ridge;

import brain2img.util.Parallel;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Double-precision GEMM and vector kernels on double arrays, row-major: C = alpha·op(A)·op(B) + beta·C.
 * Same scheme as the CPU backend's f32 GEMM: op(B) packed once into k×NR column panels, op(A) packed per
 * MR rows, an MR×NR register tile of C kept across the k loop; rows are split over the threads.
 */
final class DoubleGemm {
    static final VectorSpecies<Double> SPECIES = DoubleVector.SPECIES_PREFERRED;
    static final boolean VECTOR = !"false".equals(System.getProperty("brain2img.vector"));
    static final int MR = 4;
    static final int NR = 2 * SPECIES.length();

    private DoubleGemm() {}

    static void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
                     double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                     double beta, double[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) return;
        if (k == 0) {
            for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
                int o = cOff + i * ldc + j;
                c[o] = beta == 0 ? 0 : beta * c[o];
            }
            return;
        }
        double[] packed = packB(transB, n, k, b, bOff, ldb);
        int rowBlocks = (m + MR - 1) / MR;
        Parallel.forRange(rowBlocks, Math.max(1, 4096 / Math.max(1, n)), (from, to) -> {
            double[] aPack = new double[k * MR];
            double[] tile = new double[MR * NR];
            int panels = (n + NR - 1) / NR;
            for (int ib = from * MR; ib < Math.min(m, to * MR); ib += MR) {
                packA(transA, m, k, a, aOff, lda, ib, aPack);
                int h = Math.min(MR, m - ib);
                for (int pj = 0; pj < panels; pj++) {
                    int j0 = pj * NR;
                    int w = Math.min(NR, n - j0);
                    if (VECTOR) microVector(k, aPack, packed, pj * k * NR, tile);
                    else microScalar(k, aPack, packed, pj * k * NR, tile);
                    for (int r = 0; r < h; r++) {
                        int crow = cOff + (ib + r) * ldc + j0;
                        int trow = r * NR;
                        if (beta == 0) {
                            for (int j = 0; j < w; j++) c[crow + j] = alpha * tile[trow + j];
                        } else {
                            for (int j = 0; j < w; j++) c[crow + j] = alpha * tile[trow + j] + beta * c[crow + j];
                        }
                    }
                }
            }
        });
    }

    private static double[] packB(boolean transB, int n, int k, double[] b, int bOff, int ldb) {
        int panels = (n + NR - 1) / NR;
        double[] packed = new double[panels * k * NR];
        Parallel.forRange(panels, 1, (p0, p1) -> {
            for (int pj = p0; pj < p1; pj++) {
                int j0 = pj * NR;
                int w = Math.min(NR, n - j0);
                int base = pj * k * NR;
                for (int p = 0; p < k; p++) {
                    int dst = base + p * NR;
                    if (!transB) System.arraycopy(b, bOff + p * ldb + j0, packed, dst, w);
                    else for (int j = 0; j < w; j++) packed[dst + j] = b[bOff + (j0 + j) * ldb + p];
                }
            }
        });
        return packed;
    }

    private static void packA(boolean transA, int m, int k, double[] a, int aOff, int lda, int i0, double[] dst) {
        int h = Math.min(MR, m - i0);
        if (h < MR) java.util.Arrays.fill(dst, 0, k * MR, 0);
        for (int r = 0; r < h; r++) {
            int i = i0 + r;
            if (!transA) {
                int src = aOff + i * lda;
                for (int p = 0; p < k; p++) dst[p * MR + r] = a[src + p];
            } else {
                for (int p = 0; p < k; p++) dst[p * MR + r] = a[aOff + p * lda + i];
            }
        }
    }

    private static void microVector(int k, double[] aPack, double[] b, int bBase, double[] tile) {
        int v = SPECIES.length();
        DoubleVector c00 = DoubleVector.zero(SPECIES), c01 = DoubleVector.zero(SPECIES);
        DoubleVector c10 = DoubleVector.zero(SPECIES), c11 = DoubleVector.zero(SPECIES);
        DoubleVector c20 = DoubleVector.zero(SPECIES), c21 = DoubleVector.zero(SPECIES);
        DoubleVector c30 = DoubleVector.zero(SPECIES), c31 = DoubleVector.zero(SPECIES);
        for (int p = 0; p < k; p++) {
            int bo = bBase + p * NR;
            DoubleVector b0 = DoubleVector.fromArray(SPECIES, b, bo);
            DoubleVector b1 = DoubleVector.fromArray(SPECIES, b, bo + v);
            int ao = p * MR;
            DoubleVector a0 = DoubleVector.broadcast(SPECIES, aPack[ao]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            DoubleVector a1 = DoubleVector.broadcast(SPECIES, aPack[ao + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            DoubleVector a2 = DoubleVector.broadcast(SPECIES, aPack[ao + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            DoubleVector a3 = DoubleVector.broadcast(SPECIES, aPack[ao + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
        }
        c00.intoArray(tile, 0);
        c01.intoArray(tile, v);
        c10.intoArray(tile, NR);
        c11.intoArray(tile, NR + v);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + v);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + v);
    }

    private static void microScalar(int k, double[] aPack, double[] b, int bBase, double[] tile) {
        java.util.Arrays.fill(tile, 0);
        for (int p = 0; p < k; p++) {
            int bo = bBase + p * NR;
            for (int r = 0; r < MR; r++) {
                double av = aPack[p * MR + r];
                int t = r * NR;
                for (int j = 0; j < NR; j++) tile[t + j] = Math.fma(av, b[bo + j], tile[t + j]);
            }
        }
    }

    // ------------------------------------------------------------------ level-1 kernels for the eigensolver

    /** Σ x[xo+i]·y[yo+i] over i in [0,n). */
    static double dot(double[] x, int xo, double[] y, int yo, int n) {
        int i = 0;
        double s = 0;
        if (VECTOR && n >= SPECIES.length()) {
            DoubleVector acc = DoubleVector.zero(SPECIES);
            int bound = SPECIES.loopBound(n);
            for (; i < bound; i += SPECIES.length()) {
                acc = DoubleVector.fromArray(SPECIES, x, xo + i).fma(DoubleVector.fromArray(SPECIES, y, yo + i), acc);
            }
            s = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) s = Math.fma(x[xo + i], y[yo + i], s);
        return s;
    }

    /** y[yo..yo+n) += a·x[xo..xo+n). */
    static void axpy(double a, double[] x, int xo, double[] y, int yo, int n) {
        int i = 0;
        if (VECTOR) {
            DoubleVector av = DoubleVector.broadcast(SPECIES, a);
            int bound = SPECIES.loopBound(n);
            for (; i < bound; i += SPECIES.length()) {
                av.fma(DoubleVector.fromArray(SPECIES, x, xo + i), DoubleVector.fromArray(SPECIES, y, yo + i))
                        .intoArray(y, yo + i);
            }
        }
        for (; i < n; i++) y[yo + i] = Math.fma(a, x[xo + i], y[yo + i]);
    }

    /** z[zo..zo+n) -= a·x[xo..) + b·y[yo..): the symmetric rank-2 update of one row. */
    static void rank2Row(double a, double[] x, int xo, double b, double[] y, int yo, double[] z, int zo, int n) {
        int i = 0;
        if (VECTOR) {
            DoubleVector av = DoubleVector.broadcast(SPECIES, -a), bv = DoubleVector.broadcast(SPECIES, -b);
            int bound = SPECIES.loopBound(n);
            for (; i < bound; i += SPECIES.length()) {
                DoubleVector zv = DoubleVector.fromArray(SPECIES, z, zo + i);
                zv = av.fma(DoubleVector.fromArray(SPECIES, x, xo + i), zv);
                zv = bv.fma(DoubleVector.fromArray(SPECIES, y, yo + i), zv);
                zv.intoArray(z, zo + i);
            }
        }
        for (; i < n; i++) z[zo + i] -= a * x[xo + i] + b * y[yo + i];
    }

    /**
     * Plane rotation of two rows: for i in [0,n): (u, w) = (x[xo+i], x[yo+i]) →
     * x[xo+i] = c·u − s·w, x[yo+i] = s·u + c·w.
     */
    static void rotate(double c, double s, double[] x, int xo, int yo, int n) {
        int i = 0;
        if (VECTOR) {
            DoubleVector cv = DoubleVector.broadcast(SPECIES, c), sv = DoubleVector.broadcast(SPECIES, s);
            int bound = SPECIES.loopBound(n);
            for (; i < bound; i += SPECIES.length()) {
                DoubleVector u = DoubleVector.fromArray(SPECIES, x, xo + i);
                DoubleVector w = DoubleVector.fromArray(SPECIES, x, yo + i);
                cv.mul(u).sub(sv.mul(w)).intoArray(x, xo + i);
                sv.mul(u).add(cv.mul(w)).intoArray(x, yo + i);
            }
        }
        for (; i < n; i++) {
            double u = x[xo + i], w = x[yo + i];
            x[xo + i] = c * u - s * w;
            x[yo + i] = s * u + c * w;
        }
    }
}
