package brain2img.dir;

import brain2img.ridge.DenseLinAlg;
import brain2img.ridge.Folds;
import brain2img.ridge.RidgeScores;
import brain2img.tensor.Tensor;

import java.util.Arrays;

/**
 * Ridge from all voxels of an ROI to every unit, alpha per unit by (grouped) K-fold CV — Takagi's NSD variant
 * of Shen's decoder, with the same rules as {@link brain2img.ridge.RidgeCV} (voxels z-scored with the
 * training fold's mean and SD ddof 0, targets centred by the training mean, held-out R² with SST around the
 * held-out mean averaged over folds, ties to the larger alpha) — in the dual form, so that no voxel × unit
 * weight matrix ever exists:
 * <pre>
 *   K = X_c X_cᵀ = Eᵀ Λ E          (n×n, once per fold and once on all rows)
 *   ŷ(x) = k(x)ᵀ Eᵀ diag(1/(λ+α)) E (y − ȳ) + ȳ,   k(x) = X_c x_c
 * </pre>
 * i.e. the decoded features are weighted sums of the training images' features, computed one block of units
 * at a time from a {@link FeatureSource}.
 *
 * <p>Memory (f64), with n rows, p voxels, K folds, n_te ≈ n/K, blocks of b units and A alphas:
 * 2·n·p (the responses and X_c) + n_tr·p (a fold's standardised rows, transient) + 2n² (K, E) +
 * K·(n_tr² + n_te·n_tr) (fold eigenvectors and held-out projections) + b·(3n + 2n_te) + A·b.
 * At NSD size (n = 8,859 training images, p = 15,724, K = 5, b = 512): 6.5 GiB ({@link #peakBytes}), plus the
 * caller's f32 responses (0.52 GiB). On NSD's 24,980 single trials the K·n_tr² term alone is 16 GiB: fit on
 * image-averaged responses there.
 */
public final class DualRidgeDecoder {
    public static final int BLOCK = 512;

    private final DenseLinAlg la;
    private final int n, p;
    private final double[] alphas;
    private final Fold[] folds;
    private final Fold all;
    private final double[] mean, scale;
    private final Tensor xc;

    /** One training set's eigen-decomposition of its kernel and, for CV folds, the held-out rows' projections. */
    private record Fold(int[] train, int[] test, double[] lambda, Tensor e, Tensor z) {}

    /**
     * Decomposes the kernels of x (n, p): one per CV fold and one of all rows.
     *
     * @param k      CV folds; 0 when only {@link #predict} is needed (alphas chosen before)
     * @param groups one group per row (folds are cut over groups in order of first appearance), or null
     */
    public DualRidgeDecoder(DenseLinAlg la, Tensor x, double[] alphas, int k, int[] groups) {
        if (x.rank() != 2) throw new IllegalArgumentException("responses must be (trials, voxels), got " + x.shapeString());
        if (alphas.length == 0) throw new IllegalArgumentException("no alphas given");
        for (double a : alphas) if (!(a > 0) || Double.isInfinite(a)) throw new IllegalArgumentException("every alpha must be finite and > 0, got " + a);
        this.la = la;
        this.n = x.dimInt(0);
        this.p = x.dimInt(1);
        this.alphas = alphas.clone();
        double[] xv = x.toDoubleArray();
        int[] fold = k > 0 ? Folds.assign(n, k, groups) : null;
        folds = new Fold[k]; // k = 0: prediction only (alphas already chosen)
        for (int f = 0; f < k; f++) folds[f] = decompose(xv, rowsOf(fold, f, false), rowsOf(fold, f, true), null);
        int[] rows = new int[n];
        Arrays.setAll(rows, i -> i);
        double[][] stats = new double[2][];
        all = decompose(xv, rows, new int[0], stats);
        mean = stats[0];
        scale = stats[1];
        xc = standardized(xv, rows, mean, scale);
    }

    /** Per-unit alpha: the best mean held-out R² over folds for a block of units' training targets y (n, w). */
    public double[] chooseAlphas(float[] y, int w) {
        double[][] score = new double[alphas.length][w];
        for (Fold f : folds) {
            double[] ytr = rows(y, w, f.train), yte = rows(y, w, f.test);
            double[] ym = centre(ytr, f.train.length, w);
            double[] teMean = columnMeans(yte, f.test.length, w), sst = new double[w];
            int nTe = f.test.length, nTr = f.train.length;
            for (int i = 0; i < nTe; i++) for (int j = 0; j < w; j++) {
                double d = yte[i * w + j] - teMean[j];
                sst[j] += d * d;
                yte[i * w + j] -= ym[j];
            }
            Tensor q = Tensor.of(new double[nTr * w], nTr, w);
            la.matmul(false, false, f.e, Tensor.of(ytr, nTr, w), q);
            double[] qd = q.heapDoubles(), scaled = new double[nTr * w];
            Tensor pred = Tensor.of(new double[nTe * w], nTe, w);
            for (int a = 0; a < alphas.length; a++) {
                for (int i = 0; i < nTr; i++) {
                    double dinv = 1 / (f.lambda[i] + alphas[a]);
                    for (int j = 0; j < w; j++) scaled[i * w + j] = qd[i * w + j] * dinv;
                }
                la.matmul(false, false, f.z, Tensor.of(scaled, nTr, w), pred);
                double[] pd = pred.heapDoubles();
                for (int j = 0; j < w; j++) {
                    double sse = 0;
                    for (int i = 0; i < nTe; i++) {
                        double d = yte[i * w + j] - pd[i * w + j];
                        sse += d * d;
                    }
                    score[a][j] += RidgeScores.r2(sse, sst[j]);
                }
            }
        }
        double[] chosen = new double[w];
        for (int j = 0; j < w; j++) {
            int best = -1;
            for (int a = 0; a < alphas.length; a++) {
                if (best < 0 || score[a][j] > score[best][j] || (score[a][j] == score[best][j] && alphas[a] > alphas[best])) best = a;
            }
            chosen[j] = alphas[best];
        }
        return chosen;
    }

    /**
     * The kernel of new responses x (m, p) against the training rows, in the eigenbasis of all rows:
     * Z = ((x − mean)/scale) X_cᵀ Eᵀ (m, n). Compute once per input set, then {@link #predict} block by block.
     */
    public Tensor project(Tensor x) {
        if (x.rank() != 2 || x.dim(1) != p) throw new IllegalArgumentException("responses " + x.shapeString() + " do not have the decoder's " + p + " voxels");
        int m = x.dimInt(0);
        int[] rows = new int[m];
        Arrays.setAll(rows, i -> i);
        Tensor xs = standardized(x.toDoubleArray(), rows, mean, scale);
        Tensor kn = Tensor.of(new double[m * n], m, n);
        la.matmul(false, true, xs, xc, kn);
        Tensor z = Tensor.of(new double[m * n], m, n);
        la.matmul(false, true, kn, all.e, z);
        return z;
    }

    /** Decoded values (m, w) of a block of units from their training targets y (n, w) and alphas (w). */
    public float[] predict(Tensor z, float[] y, int w, double[] alpha) {
        int m = z.dimInt(0);
        double[] yd = new double[n * w];
        for (int i = 0; i < yd.length; i++) yd[i] = y[i];
        double[] ym = centre(yd, n, w);
        Tensor q = Tensor.of(new double[n * w], n, w);
        la.matmul(false, false, all.e, Tensor.of(yd, n, w), q);
        double[] qd = q.heapDoubles();
        for (int i = 0; i < n; i++) for (int j = 0; j < w; j++) qd[i * w + j] /= all.lambda[i] + alpha[j];
        Tensor pred = Tensor.of(new double[m * w], m, w);
        la.matmul(false, false, z, q, pred);
        double[] pd = pred.heapDoubles();
        float[] out = new float[m * w];
        for (int i = 0; i < m; i++) for (int j = 0; j < w; j++) out[i * w + j] = (float) (pd[i * w + j] + ym[j]);
        return out;
    }

    public int trials() {
        return n;
    }

    /** Estimated peak heap in bytes; see the class comment. */
    public static long peakBytes(long n, long p, int k, long b, int alphas) {
        long nTe = (n + k - 1) / k, nTr = n - n / k;
        return 8 * (2 * n * p + nTr * p + 2 * n * n + k * (nTr * nTr + nTe * nTr) + b * (3 * n + 2 * nTe)) + 8L * alphas * b;
    }

    // ---------------------------------------------------------------- helpers

    private Fold decompose(double[] xv, int[] train, int[] test, double[][] statsOut) {
        double[][] st = stats(xv, train);
        Tensor xtr = standardized(xv, train, st[0], st[1]);
        int r = train.length;
        Tensor g = Tensor.of(new double[r * r], r, r);
        la.matmul(false, true, xtr, xtr, g);
        double[] gd = g.heapDoubles();
        for (int i = 0; i < r; i++) for (int j = 0; j < i; j++) { // exact symmetry for the eigensolver
            double v = 0.5 * (gd[i * r + j] + gd[j * r + i]);
            gd[i * r + j] = v;
            gd[j * r + i] = v;
        }
        double[] lambda = la.eigh(g); // g now holds the eigenvectors as rows
        for (int i = 0; i < r; i++) lambda[i] = Math.max(0, lambda[i]);
        Tensor z = null;
        if (test.length > 0) {
            Tensor xte = standardized(xv, test, st[0], st[1]);
            Tensor kt = Tensor.of(new double[test.length * r], test.length, r);
            la.matmul(false, true, xte, xtr, kt);
            z = Tensor.of(new double[test.length * r], test.length, r);
            la.matmul(false, true, kt, g, z);
        }
        if (statsOut != null) {
            statsOut[0] = st[0];
            statsOut[1] = st[1];
        }
        return new Fold(train, test, lambda, g, z);
    }

    /** {mean, SD ddof 0 (0 → 1)} of the given rows' columns. */
    private double[][] stats(double[] xv, int[] rows) {
        double[] mu = new double[p], sd = new double[p];
        for (int i : rows) for (int j = 0; j < p; j++) mu[j] += xv[i * p + j];
        for (int j = 0; j < p; j++) mu[j] /= rows.length;
        for (int i : rows) for (int j = 0; j < p; j++) {
            double d = xv[i * p + j] - mu[j];
            sd[j] += d * d;
        }
        for (int j = 0; j < p; j++) {
            double s = Math.sqrt(sd[j] / rows.length);
            sd[j] = s == 0 ? 1 : s;
        }
        return new double[][]{mu, sd};
    }

    private Tensor standardized(double[] xv, int[] rows, double[] mu, double[] sd) {
        double[] out = new double[rows.length * p];
        for (int r = 0; r < rows.length; r++) for (int j = 0; j < p; j++) out[r * p + j] = (xv[rows[r] * p + j] - mu[j]) / sd[j];
        return Tensor.of(out, rows.length, p);
    }

    private static int[] rowsOf(int[] fold, int f, boolean test) {
        return Arrays.stream(java.util.stream.IntStream.range(0, fold.length).toArray()).filter(i -> (fold[i] == f) == test).toArray();
    }

    private static double[] rows(float[] y, int w, int[] idx) {
        double[] out = new double[idx.length * w];
        for (int r = 0; r < idx.length; r++) for (int j = 0; j < w; j++) out[r * w + j] = y[idx[r] * w + j];
        return out;
    }

    /** Subtracts the column means in place and returns them. */
    private static double[] centre(double[] m, int rows, int w) {
        double[] mu = columnMeans(m, rows, w);
        for (int i = 0; i < rows; i++) for (int j = 0; j < w; j++) m[i * w + j] -= mu[j];
        return mu;
    }

    private static double[] columnMeans(double[] m, int rows, int w) {
        double[] mu = new double[w];
        for (int i = 0; i < rows; i++) for (int j = 0; j < w; j++) mu[j] += m[i * w + j];
        for (int j = 0; j < w; j++) mu[j] /= rows;
        return mu;
    }
}
