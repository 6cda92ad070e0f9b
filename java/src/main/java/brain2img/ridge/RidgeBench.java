package brain2img.ridge;

import brain2img.backend.Backend;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import brain2img.util.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * {@code brain2img ridge bench}: times {@link RidgeCV} on a random problem and, for reference, the naive
 * path (per fold and per alpha: Cholesky of XᵀX + αI and two triangular solves for all targets, in Java,
 * multi-threaded over target blocks; the same GEMM for XᵀX, XᵀY and the held-out predictions).
 *
 * <p>GFLOP/s use analytic counts: GEMMs as 2mnk, a symmetric eigendecomposition with vectors as 9r³
 * (Golub &amp; Van Loan's count for tridiagonalisation plus implicit QR with accumulated vectors), a Cholesky
 * factorisation as p³/3, two triangular solves with m right-hand sides as 2p²m. Element-wise work is not counted.
 */
public final class RidgeBench {
    public enum Reference { ALL_FOLDS, ONE_FOLD, NONE }

    private RidgeBench() {}

    /** verbose: also print where the fit's time went (GEMM, eigensolver, the rest). */
    public static void run(Backend be, int n, int p, int t, int na, int k, boolean f64, Reference ref, boolean verbose, PrintStream out) {
        DenseLinAlg la = DenseLinAlg.forBackend(be);
        double[] alphas = new double[na];
        for (int i = 0; i < na; i++) alphas[i] = na == 1 ? 1 : Math.pow(10, -2 + 6.0 * i / (na - 1));
        out.printf(Locale.ROOT, "problem: n=%d p=%d t=%d, %d alphas (1e-2..1e4), %d folds, %s; linalg: %s; %d cores%n",
                n, p, t, na, k, f64 ? "f64" : "f32", la.describe(), Runtime.getRuntime().availableProcessors());
        Tensor[] xy = problem(la, n, p, t, f64 ? DType.F64 : DType.F32);
        RidgeOptions opt = RidgeOptions.defaults(alphas).withFolds(k).withF64(f64);

        long t0 = System.nanoTime();
        double cpu0 = cpuSeconds();
        TimedLinAlg timed = verbose ? new TimedLinAlg(la) : null;
        RidgeModel m = RidgeCV.fit(verbose ? timed : la, xy[0], xy[1], opt, line -> out.printf(Locale.ROOT, "  [%6.1f s] %s%n",
                (System.nanoTime() - t0) / 1e9, line), 0);
        double sec = (System.nanoTime() - t0) / 1e9, cpu = cpuSeconds() - cpu0;
        if (verbose) out.println("ridge fit time by kind: " + timed.summary(sec));
        double flops = engineFlops(n, p, t, na, k);
        out.printf(Locale.ROOT, "ridge fit: %.1f s wall (%.1f s process CPU), %.0f GFLOP → %.1f GFLOP/s (%.1f per CPU-second)%n",
                sec, cpu, flops / 1e9, flops / sec / 1e9, flops / cpu / 1e9);
        if (ref == Reference.NONE) return;
        if (f64) {
            out.println("reference: only implemented in f32; skipped");
            return;
        }
        int folds = ref == Reference.ONE_FOLD ? 1 : k;
        long t1 = System.nanoTime();
        double rcpu0 = cpuSeconds();
        double[] refAlpha = naiveCv(la, xy[0], xy[1], alphas, k, folds, out, t1);
        double rsec = (System.nanoTime() - t1) / 1e9, rcpu = cpuSeconds() - rcpu0;
        double rflops = naiveFlops(n, p, t, na, k, folds);
        String scope = folds == k ? "" : String.format(Locale.ROOT, " (%d of %d folds, no refit; ×%d extrapolated: %.1f s)",
                folds, k, k, rsec * k);
        out.printf(Locale.ROOT, "reference (Cholesky per fold and alpha): %.1f s wall (%.1f s process CPU), %.0f GFLOP → %.1f GFLOP/s (%.1f per CPU-second)%s%n",
                rsec, rcpu, rflops / 1e9, rflops / rsec / 1e9, rflops / rcpu / 1e9, scope);
        double full = folds == k ? rsec : rsec * k, fullCpu = folds == k ? rcpu : rcpu * k;
        out.printf(Locale.ROOT, "speed-up of ridge fit over the reference: %.1f× wall, %.1f× process CPU%n", full / sec, fullCpu / cpu);
        if (folds == k) {
            int agree = 0;
            for (int j = 0; j < t; j++) if (refAlpha[j] == m.alpha().getDouble(j)) agree++;
            out.printf(Locale.ROOT, "chosen alphas agree on %d of %d targets%n", agree, t);
        }
    }

    /** CPU time of this process so far (all threads), to tell a slow run from a machine shared with other work. */
    static double cpuSeconds() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime() / 1e9 : Double.NaN;
    }

    /** X (n,p) standard normal; Y = X[:, :q]·B + noise with a different noise level per target (q = min(p, 64)). */
    public static Tensor[] problem(DenseLinAlg la, int n, int p, int t, DType dt) {
        Tensor x = Tensor.allocateHeap(dt, n, p), y = Tensor.allocateHeap(dt, n, t);
        int q = Math.min(p, 64);
        Tensor b = Tensor.allocateHeap(dt, q, t);
        Parallel.forRange(n, 16, (i0, i1) -> {
            SplittableRandom r = new SplittableRandom(1234 + i0);
            for (long i = (long) i0 * p; i < (long) i1 * p; i++) x.setDouble(i, gaussian(r));
        });
        Random r = new Random(99);
        for (long i = 0; i < (long) q * t; i++) b.setDouble(i, r.nextGaussian() / Math.sqrt(q));
        la.gemm(false, false, n, t, q, 1, x, 0, p, b, 0, t, 0, y, 0, t);
        Parallel.forRange(n, 16, (i0, i1) -> {
            SplittableRandom rr = new SplittableRandom(777 + i0);
            for (int i = i0; i < i1; i++) for (int j = 0; j < t; j++) {
                long o = (long) i * t + j;
                y.setDouble(o, y.getDouble(o) + (0.3 + 3.0 * j / t) * gaussian(rr));
            }
        });
        return new Tensor[]{x, y};
    }

    private static double gaussian(SplittableRandom r) {
        double u = r.nextDouble(), v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
    }

    /**
     * FLOPs of {@link RidgeCV#fit} with the AUTO solver, fold sizes as numpy.array_split. Primal (p ≤ every n_train):
     * per training set XᵀX and XᵀY; per fold and alpha a Cholesky factorisation, its solve for the held-out rows and
     * the predictions; the refit's factorisations (at most one per alpha) and solves for all targets.
     * Kernel form: per fold the Gram matrix, its eigendecomposition, the projections and predictions; then the refit.
     */
    public static double engineFlops(double n, double p, double t, double na, int k) {
        double total = 0;
        boolean primal = p <= n - Folds.partSize((int) n, k, 0); // the first fold is the largest
        if (primal) total += 2 * n * p * p + 2 * n * p * t + na * p * p * p / 3 + 2 * p * p * t;
        for (int f = 0; f < k; f++) {
            double nTe = Folds.partSize((int) n, k, f), nTr = n - nTe;
            if (primal) {
                total += 2 * nTr * p * p + 2 * nTr * p * t + na * (p * p * p / 3 + 2 * p * p * nTe + 2 * nTe * p * t);
            } else {
                total += 2 * nTr * nTr * p + 9 * nTr * nTr * nTr + 2 * nTe * nTr * p + 2 * nTe * nTr * nTr
                        + 2 * nTr * nTr * t + 2 * nTe * nTr * t * na;
            }
        }
        if (!primal) total += 2 * n * n * p + 9 * n * n * n + 2 * n * n * t + 2 * n * n * t + 2 * n * p * t;
        return total;
    }

    /** FLOPs of the reference on the first {@code folds} folds (and the refit when all folds run). */
    static double naiveFlops(double n, double p, double t, double na, int k, int folds) {
        double total = 0;
        for (int f = 0; f < folds; f++) {
            double nTe = Folds.partSize((int) n, k, f), nTr = n - nTe;
            total += 2 * nTr * p * p + 2 * nTr * p * t + na * (p * p * p / 3 + 2 * p * p * t + 2 * nTe * p * t);
        }
        if (folds == k) total += 2 * n * p * p + 2 * n * p * t + na * p * p * p / 3 + 2 * p * p * t; // ≤ na distinct alphas
        return total;
    }

    // ------------------------------------------------------------------ the naive reference path (f32)

    /** Per fold and alpha: solve (XᵀX + αI) W = XᵀY by Cholesky, score R² on the held-out part; returns the chosen alphas. */
    static double[] naiveCv(DenseLinAlg la, Tensor x, Tensor y, double[] alphas, int k, int folds, PrintStream out, long start) {
        int n = x.dimInt(0), p = x.dimInt(1), t = y.dimInt(1);
        int[] fold = Folds.assign(n, k, null);
        double[][] score = new double[alphas.length][t];
        for (int f = 0; f < folds; f++) {
            int[] train = Folds.rows(fold, f, false), test = Folds.rows(fold, f, true);
            Normal eq = Normal.of(la, x, y, train);
            Tensor xte = RidgeSolve.standardizedRows(x, test, eq.mean, eq.scale, DType.F32);
            Tensor yte = RidgeCV.gather(y, test, 0, t, DType.F32);
            double[] teMean = RidgeCV.columnMeans(yte), sst = new double[t];
            for (int i = 0; i < test.length; i++) for (int j = 0; j < t; j++) {
                double d = yte.getDouble((long) i * t + j) - teMean[j];
                sst[j] += d * d;
            }
            Tensor pred = Tensor.allocateHeap(DType.F32, test.length, t);
            for (int a = 0; a < alphas.length; a++) {
                Tensor w = eq.solve(alphas[a], 0, t);
                la.matmul(false, false, xte, w, pred);
                double[] sse = new double[t];
                for (int i = 0; i < test.length; i++) for (int j = 0; j < t; j++) {
                    double d = yte.getDouble((long) i * t + j) - pred.getDouble((long) i * t + j) - eq.yMean[j];
                    sse[j] += d * d;
                }
                for (int j = 0; j < t; j++) score[a][j] += RidgeScores.r2(sse[j], sst[j]) / k;
            }
            out.printf(Locale.ROOT, "  [%6.1f s] reference fold %d/%d done%n", (System.nanoTime() - start) / 1e9, f + 1, k);
        }
        double[] chosen = RidgeCV.choose(alphas, score, true);
        if (folds < k) return chosen;
        int[] all = new int[n];
        Arrays.setAll(all, i -> i);
        Normal eq = Normal.of(la, x, y, all);
        for (double a : Arrays.stream(chosen).distinct().toArray()) {
            eq.solve(a, 0, t); // the refit: one Cholesky and solve per distinct chosen alpha (all columns, an upper bound)
        }
        return chosen;
    }

    /** The normal equations of one training set: G = XcᵀXc (p,p) in f64 and C = XcᵀYc (p,t) in f32. */
    private record Normal(int p, int t, double[] g, float[] c, double[] mean, double[] scale, double[] yMean) {
        static Normal of(DenseLinAlg la, Tensor x, Tensor y, int[] rows) {
            int p = x.dimInt(1), t = y.dimInt(1);
            double[][] stats = RidgeSolve.columnStats(x, rows, true, false);
            Tensor xc = RidgeSolve.standardizedRows(x, rows, stats[0], stats[1], DType.F32);
            Tensor yc = RidgeCV.gather(y, rows, 0, t, DType.F32);
            double[] ym = RidgeCV.columnMeans(yc);
            float[] ycf = yc.heapFloats();
            for (int i = 0; i < rows.length; i++) for (int j = 0; j < t; j++) ycf[i * t + j] -= (float) ym[j];
            Tensor g = Tensor.allocateHeap(DType.F32, p, p), c = Tensor.allocateHeap(DType.F32, p, t);
            la.matmul(true, false, xc, xc, g);
            la.matmul(true, false, xc, yc, c);
            return new Normal(p, t, g.to(DType.F64).heapDoubles(), c.heapFloats(), stats[0], stats[1], ym);
        }

        /** W (p, t) for columns [c0, c1) of C: Cholesky of G + αI (f64), then L Lᵀ W = C in f32 column blocks. */
        Tensor solve(double alpha, int c0, int c1) {
            float[] l = cholesky(g, p, alpha);
            int w = c1 - c0;
            Tensor out = Tensor.allocateHeap(DType.F32, p, w);
            float[] o = out.heapFloats();
            final int block = 256;
            Parallel.forRange((w + block - 1) / block, 1, (b0, b1) -> {
                for (int b = b0; b < b1; b++) {
                    int j0 = b * block, bw = Math.min(block, w - j0);
                    float[] z = new float[p * bw];
                    for (int i = 0; i < p; i++) System.arraycopy(c, i * t + c0 + j0, z, i * bw, bw);
                    for (int i = 0; i < p; i++) { // forward: L z = c
                        for (int q = 0; q < i; q++) axpy(-l[i * p + q], z, q * bw, z, i * bw, bw);
                        scaleRow(1 / l[i * p + i], z, i * bw, bw);
                    }
                    for (int i = p - 1; i >= 0; i--) { // backward: Lᵀ w = z (column i of L)
                        for (int q = i + 1; q < p; q++) axpy(-l[q * p + i], z, q * bw, z, i * bw, bw);
                        scaleRow(1 / l[i * p + i], z, i * bw, bw);
                    }
                    for (int i = 0; i < p; i++) System.arraycopy(z, i * bw, o, i * w + j0, bw);
                }
            });
            return out;
        }
    }

    /** Lower Cholesky factor of G + αI (row-major, f64 arithmetic, returned in f32). */
    static float[] cholesky(double[] g, int p, double alpha) {
        double[] a = g.clone();
        for (int i = 0; i < p; i++) a[i * p + i] += alpha;
        for (int j = 0; j < p; j++) {
            double d = a[j * p + j] - DoubleGemm.dot(a, j * p, a, j * p, j);
            if (!(d > 0)) throw new ArithmeticException("cholesky: matrix not positive definite at " + j);
            double ljj = Math.sqrt(d);
            a[j * p + j] = ljj;
            final int jj = j;
            Parallel.forRange(p - j - 1, 64, (i0, i1) -> {
                for (int i = jj + 1 + i0; i < jj + 1 + i1; i++) {
                    a[i * p + jj] = (a[i * p + jj] - DoubleGemm.dot(a, i * p, a, jj * p, jj)) / ljj;
                }
            });
        }
        float[] l = new float[p * p];
        for (int i = 0; i < p; i++) for (int q = 0; q <= i; q++) l[i * p + q] = (float) a[i * p + q];
        return l;
    }

    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;

    private static void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        FloatVector av = FloatVector.broadcast(FS, a);
        for (int bound = FS.loopBound(n); i < bound; i += FS.length()) {
            av.fma(FloatVector.fromArray(FS, x, xo + i), FloatVector.fromArray(FS, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] += a * x[xo + i];
    }

    private static void scaleRow(float a, float[] x, int xo, int n) {
        for (int i = 0; i < n; i++) x[xo + i] *= a;
    }
}
