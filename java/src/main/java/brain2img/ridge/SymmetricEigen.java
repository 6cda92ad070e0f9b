package brain2img.ridge;

import brain2img.util.Parallel;

/**
 * Pure-Java symmetric eigensolver in f64, multi-threaded:
 * <ol>
 *   <li>Householder tridiagonalisation A = Q T Qᵀ (unblocked; each step's matrix-vector product and
 *       symmetric rank-2 update are split over rows, with Vector API inner loops);</li>
 *   <li>implicit QL with Wilkinson-type shifts on T (the EISPACK {@code tql2} iteration). The iteration only
 *       needs d and e, so the plane rotations of many sweeps are recorded first and then applied to the
 *       eigenvector rows in column strips that stay in cache across all of them, in parallel over strips
 *       (same arithmetic, in the same order, as applying each rotation at once);</li>
 *   <li>back-transformation of the eigenvectors of T by the stored reflectors, in parallel over rows.</li>
 * </ol>
 * Eigenvectors are kept as rows (row j = eigenvector j) so every rotation and reflector touches contiguous
 * memory. Cost ≈ (4/3 + ~4.5 + 2)·n³ flops; memory: the input plus one more n×n array.
 */
final class SymmetricEigen {
    private static final double EPS = Math.ulp(1.0);
    /** Below this many rotated elements a sweep runs on the calling thread. */
    private static final int PARALLEL_ROTATIONS = 1 << 15;

    private SymmetricEigen() {}

    /** Returns the eigenvalues ascending; a (n×n, row-major, symmetric) is overwritten, row j = eigenvector j. */
    static double[] decompose(double[] a, int n) {
        if (a.length < (long) n * n) throw new IllegalArgumentException("eigh: array of " + a.length + " for n=" + n);
        double[] d = new double[n], e = new double[n], beta = new double[n];
        tridiagonalize(a, n, d, e, beta);
        double[] z = new double[n * n];
        for (int i = 0; i < n; i++) z[i * n + i] = 1;
        ql(d, e, z, n);
        backTransform(a, beta, z, n);
        // sort ascending into a
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        java.util.Arrays.sort(order, (x, y) -> Double.compare(d[x], d[y]));
        double[] w = new double[n];
        for (int j = 0; j < n; j++) {
            w[j] = d[order[j]];
            System.arraycopy(z, order[j] * n, a, j * n, n);
        }
        return w;
    }

    /**
     * Reduces a to tridiagonal form: d the diagonal, e[k] couples k and k+1 (e[n-1] = 0). Reflector k
     * (I − beta[k]·v vᵀ, acting on indices k+1..n-1) is stored in row k of a at columns k+1..n-1.
     */
    static void tridiagonalize(double[] a, int n, double[] d, double[] e, double[] beta) {
        double[] p = new double[n], w = new double[n];
        for (int k = 0; k + 2 < n; k++) {
            int m = n - k - 1;
            int vo = k * n + k + 1; // v = x = row k, columns k+1..n-1
            double x0 = a[vo];
            double norm = Math.sqrt(DoubleGemm.dot(a, vo, a, vo, m));
            if (norm == 0) {
                e[k] = 0;
                beta[k] = 0;
                continue;
            }
            double alpha = x0 >= 0 ? -norm : norm;
            double b = 1 / (norm * (norm + Math.abs(x0)));
            a[vo] = x0 - alpha;
            e[k] = alpha;
            beta[k] = b;
            int base = (k + 1) * n + k + 1; // A22 starts at (k+1, k+1)
            // p = b · A22 v
            Parallel.forRange(m, 64, (i0, i1) -> {
                for (int i = i0; i < i1; i++) p[i] = b * DoubleGemm.dot(a, base + i * n, a, vo, m);
            });
            double kk = 0.5 * b * DoubleGemm.dot(p, 0, a, vo, m);
            for (int i = 0; i < m; i++) w[i] = p[i] - kk * a[vo + i];
            // A22 -= v wᵀ + w vᵀ
            Parallel.forRange(m, 64, (i0, i1) -> {
                for (int i = i0; i < i1; i++) DoubleGemm.rank2Row(a[vo + i], w, 0, w[i], a, vo, a, base + i * n, m);
            });
        }
        for (int i = 0; i < n; i++) d[i] = a[i * n + i];
        if (n >= 2) e[n - 2] = a[(n - 2) * n + n - 1];
        e[n - 1] = 0;
    }

    /** Implicit QL on the tridiagonal (d, e); rotations are accumulated into the rows of z. */
    static void ql(double[] d, double[] e, double[] z, int n) {
        Rotations rot = new Rotations(z, n);
        double f = 0, tst1 = 0;
        int budget = 60 * Math.max(1, n);
        for (int l = 0; l < n; l++) {
            tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
            int m = l;
            while (m < n - 1 && Math.abs(e[m]) > EPS * tst1) m++;
            if (m > l) {
                do {
                    if (--budget < 0) throw new ArithmeticException("eigh: QL iteration did not converge (n=" + n + ")");
                    double g = d[l];
                    double pp = (d[l + 1] - g) / (2 * e[l]);
                    double r = Math.hypot(pp, 1);
                    if (pp < 0) r = -r;
                    d[l] = e[l] / (pp + r);
                    d[l + 1] = e[l] * (pp + r);
                    double dl1 = d[l + 1];
                    double h = g - d[l];
                    for (int i = l + 2; i < n; i++) d[i] -= h;
                    f += h;
                    pp = d[m];
                    double c = 1, c2 = 1, c3 = 1, s = 0, s2 = 0;
                    double el1 = e[l + 1];
                    rot.beginSweep(l, m);
                    for (int i = m - 1; i >= l; i--) {
                        c3 = c2;
                        c2 = c;
                        s2 = s;
                        g = c * e[i];
                        h = c * pp;
                        r = Math.hypot(pp, e[i]);
                        e[i + 1] = s * r;
                        s = e[i] / r;
                        c = pp / r;
                        pp = c * d[i] - s * g;
                        d[i + 1] = h + s * (c * g + s * d[i]);
                        rot.add(c, s);
                    }
                    pp = -s * s2 * c3 * el1 * e[l] / dl1;
                    e[l] = s * pp;
                    d[l] = c * pp;
                } while (Math.abs(e[l]) > EPS * tst1);
            }
            d[l] = d[l] + f;
            e[l] = 0;
        }
        rot.flush();
    }

    /**
     * Recorded QL sweeps. Sweep s rotates rows (i, i+1) for i = hi[s]-1 down to lo[s]:
     * (zᵢ, zᵢ₊₁) ← (c·zᵢ − s·zᵢ₊₁, s·zᵢ + c·zᵢ₊₁). Flushed when the buffer is full (bounded memory) and at the end.
     */
    private static final class Rotations {
        private static final int CAPACITY = 1 << 21; // at most this many rotations per flush (32 MiB)
        private static final int STRIP = 64;         // columns per strip: n rows × 64 doubles stay in L2
        private final double[] z;
        private final int n;
        private final double[] cs, sn;
        private int[] lo = new int[1024], hi = new int[1024], start = new int[1025];
        private int sweeps, count;

        Rotations(double[] z, int n) {
            this.z = z;
            this.n = n;
            int cap = (int) Math.min(CAPACITY, Math.max(16L, 2L * n * n)); // a full QL needs about n²
            cs = new double[cap];
            sn = new double[cap];
        }

        void beginSweep(int l, int m) {
            if (count + (m - l) > cs.length) flush();
            if (sweeps == lo.length) {
                lo = java.util.Arrays.copyOf(lo, 2 * sweeps);
                hi = java.util.Arrays.copyOf(hi, 2 * sweeps);
                start = java.util.Arrays.copyOf(start, 2 * sweeps + 1);
            }
            lo[sweeps] = l;
            hi[sweeps] = m;
            start[sweeps] = count;
            sweeps++;
        }

        void add(double c, double s) {
            cs[count] = c;
            sn[count] = s;
            count++;
        }

        void flush() {
            if (sweeps == 0) return;
            int ns = sweeps;
            Parallel.RangeBody strips = (s0, s1) -> {
                for (int st = s0; st < s1; st++) {
                    int c0 = st * STRIP, w = Math.min(STRIP, n - c0);
                    for (int q = 0; q < ns; q++) {
                        int k = start[q];
                        for (int i = hi[q] - 1; i >= lo[q]; i--, k++) {
                            DoubleGemm.rotate(cs[k], sn[k], z, i * n + c0, (i + 1) * n + c0, w);
                        }
                    }
                }
            };
            int nStrips = (n + STRIP - 1) / STRIP;
            if ((long) count * n < PARALLEL_ROTATIONS) strips.run(0, nStrips);
            else Parallel.forRange(nStrips, 1, strips);
            sweeps = 0;
            count = 0;
        }
    }

    /** z row j ← Q·z_j with Q = H₀H₁⋯H_{n-3}, i.e. the reflectors applied last to first. */
    static void backTransform(double[] a, double[] beta, double[] z, int n) {
        final int rowsPerBlock = 4; // one reflector is read once per block of rows
        Parallel.forRange((n + rowsPerBlock - 1) / rowsPerBlock, 1, (b0, b1) -> {
            for (int blk = b0; blk < b1; blk++) {
                int r0 = blk * rowsPerBlock, r1 = Math.min(n, r0 + rowsPerBlock);
                for (int k = n - 3; k >= 0; k--) {
                    if (beta[k] == 0) continue;
                    int vo = k * n + k + 1, m = n - k - 1;
                    for (int r = r0; r < r1; r++) {
                        int zo = r * n + k + 1;
                        double s = beta[k] * DoubleGemm.dot(a, vo, z, zo, m);
                        if (s != 0) DoubleGemm.axpy(-s, a, vo, z, zo, m);
                    }
                }
            }
        });
    }
}
