package brain2img.dir;

import brain2img.ridge.DenseLinAlg;
import brain2img.tensor.Tensor;
import brain2img.util.Parallel;

import java.util.Arrays;

/**
 * The Kamitani lab's current feature decoder (FastL2LiR as the brain-decoding cookbook trains it): X and Y
 * z-scored with the training means and SDs (ddof 1); for each unit, the k voxels with the largest |r| with that
 * unit on the training data (voxels of zero variance never chosen), then ridge with penalty α on those voxels
 * plus FastL2LiR's bias column; prediction = (x_z · w + b) · σ_y + μ_y.
 *
 * <p>With X centred, the bias column is orthogonal to every voxel column, so its penalised solution decouples:
 * b = Σ y_z / (n + α) = 0 because y_z is centred too. The per-unit system is therefore (G_II + αI) w = (X_zᵀ y_z)_I
 * with G = X_zᵀ X_z computed once (p×p) and X_zᵀ Y_z one GEMM per block of units: a unit then costs one k×k
 * Cholesky, not an n·k² Gram. {@code TopVoxelDecoderTest} checks this against the literal per-unit solve
 * with the bias column.
 *
 * <p>Memory (f64): n·p (X_z) + p² (G) + per block of b units: n·b (Y) + p·b (X_zᵀY) + b·k (indices and
 * weights) + threads·k² (Cholesky scratch). At NSD size (n = 8,859 trials, p = 15,724 voxels, k = 500,
 * b = 512) that is 3.0 GiB ({@link #peakBytes}), plus the caller's f32 responses (0.52 GiB).
 */
public final class TopVoxelDecoder {
    public static final int DEFAULT_VOXELS = 500;
    public static final double DEFAULT_ALPHA = 100;
    /** Units per block: bounds the n·b + p·b working set. */
    public static final int BLOCK = 512;

    private final DenseLinAlg la;
    private final int n, p, k;
    private final double alpha;
    private final double[] xMean, xScale;
    private final boolean[] constant;
    private final Tensor xz;   // (n,p) f64
    private final double[] gram; // (p,p)

    /**
     * Prepares the voxel side from the training responses x (n, p).
     *
     * @param k     voxels per unit (at most p)
     * @param alpha ridge penalty
     */
    public TopVoxelDecoder(DenseLinAlg la, Tensor x, int k, double alpha) {
        if (x.rank() != 2) throw new IllegalArgumentException("responses must be (trials, voxels), got " + x.shapeString());
        this.la = la;
        this.n = x.dimInt(0);
        this.p = x.dimInt(1);
        if (n < 2) throw new IllegalArgumentException("need at least 2 training trials, got " + n);
        if ((long) p * p > Integer.MAX_VALUE) throw new IllegalArgumentException(p + " voxels: the voxel Gram matrix would exceed 2^31 entries");
        if (k < 1) throw new IllegalArgumentException("voxels per unit must be ≥ 1, got " + k);
        if (!(alpha > 0)) throw new IllegalArgumentException("alpha must be > 0, got " + alpha);
        this.k = Math.min(k, p);
        this.alpha = alpha;
        double[] v = x.toDoubleArray();
        xMean = new double[p];
        xScale = new double[p];
        constant = new boolean[p];
        zscore(v, n, p, xMean, xScale, constant);
        xz = Tensor.of(v, n, p);
        Tensor g = Tensor.of(new double[p * p], p, p);
        la.matmul(true, false, xz, xz, g);
        gram = g.heapDoubles();
    }

    public int voxelsPerUnit() {
        return k;
    }

    public int trials() {
        return n;
    }

    /** Training-response means and SDs (ddof 1; 1 for constant voxels), to z-score new responses. */
    public double[][] xStats() {
        return new double[][]{xMean.clone(), xScale.clone()};
    }

    /**
     * Fits a block of units from their training targets y (n, w), row t the target of training trial t.
     * Constant units (zero SD) get zero weights and predict their mean.
     */
    public Block fit(float[] y, int w) {
        if (y.length != (long) n * w) throw new IllegalArgumentException("targets block has " + y.length + " values, expected " + n + "×" + w);
        double[] yz = new double[n * w];
        for (int i = 0; i < yz.length; i++) yz[i] = y[i];
        double[] yMean = new double[w], yScale = new double[w];
        boolean[] flat = new boolean[w];
        zscore(yz, n, w, yMean, yScale, flat);
        Tensor c = Tensor.of(new double[p * w], p, w); // X_zᵀ Y_z: (n−1)·r, and the right-hand sides
        la.matmul(true, false, xz, Tensor.of(yz, n, w), c);
        double[] xty = c.heapDoubles();
        int[] idx = new int[w * k];
        float[] weight = new float[w * k];
        Parallel.forRange(w, 4, (j0, j1) -> {
            double[] a = new double[k * k], rhs = new double[k], score = new double[p];
            for (int j = j0; j < j1; j++) {
                if (flat[j]) {
                    Arrays.fill(idx, j * k, (j + 1) * k, 0);
                    continue;
                }
                for (int v = 0; v < p; v++) score[v] = constant[v] ? -1 : Math.abs(xty[v * w + j]);
                int[] top = topK(score, k);
                System.arraycopy(top, 0, idx, j * k, k);
                for (int r = 0; r < k; r++) {
                    long row = (long) top[r] * p;
                    for (int s = 0; s < k; s++) a[r * k + s] = gram[(int) (row + top[s])];
                    a[r * k + r] += alpha;
                    rhs[r] = xty[top[r] * w + j];
                }
                Cholesky.solveInPlace(a, rhs, k);
                for (int r = 0; r < k; r++) weight[j * k + r] = (float) rhs[r];
            }
        });
        float[] ym = new float[w], ys = new float[w];
        for (int j = 0; j < w; j++) {
            ym[j] = (float) yMean[j];
            ys[j] = (float) (flat[j] ? 0 : yScale[j]);
        }
        return new Block(w, k, idx, weight, ym, ys);
    }

    /**
     * A fitted block of units: voxel indices and weights (w, k) row-major, target means and SDs (w). A unit
     * with SD 0 predicts its mean.
     */
    public record Block(int units, int k, int[] voxels, float[] weights, float[] yMean, float[] yScale) {
        /** Predictions (m, units) from responses already z-scored with the training statistics, xz (m, p). */
        public float[] predict(double[] xzNew, int m, int p) {
            float[] out = new float[m * units];
            for (int i = 0; i < m; i++) {
                int xo = i * p;
                for (int j = 0; j < units; j++) {
                    double s = 0;
                    for (int r = 0; r < k; r++) s += weights[j * k + r] * xzNew[xo + voxels[j * k + r]];
                    out[i * units + j] = (float) (s * yScale[j] + yMean[j]);
                }
            }
            return out;
        }
    }

    /** New responses (m, p) z-scored with the training statistics. */
    public static double[] zscoreWith(Tensor x, double[] mean, double[] scale) {
        int m = x.dimInt(0), p = x.dimInt(1);
        if (p != mean.length) throw new IllegalArgumentException("responses have " + p + " voxels, the decoder " + mean.length);
        double[] v = x.toDoubleArray();
        for (int i = 0; i < m; i++) for (int j = 0; j < p; j++) v[i * p + j] = (v[i * p + j] - mean[j]) / scale[j];
        return v;
    }

    /** Estimated peak heap in bytes for n trials, p voxels, k voxels per unit and blocks of b units. */
    public static long peakBytes(long n, long p, long k, long b) {
        return 8 * (n * p + p * p + n * b + p * b) + 8 * b * k + 8L * Parallel.threads() * (k * k + k + p) + 4 * n * b;
    }

    /** Column-wise z-scoring in place with ddof 1; zero-SD columns are marked and scaled by 1 (they become 0). */
    static void zscore(double[] m, int rows, int cols, double[] mean, double[] scale, boolean[] constant) {
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) mean[j] += m[i * cols + j];
        for (int j = 0; j < cols; j++) mean[j] /= rows;
        double[] ss = new double[cols];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) {
            double d = m[i * cols + j] - mean[j];
            ss[j] += d * d;
        }
        for (int j = 0; j < cols; j++) {
            double sd = Math.sqrt(ss[j] / (rows - 1));
            constant[j] = !(sd > 1e-12 * Math.max(1, Math.abs(mean[j])));
            scale[j] = constant[j] ? 1 : sd;
        }
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) m[i * cols + j] = (m[i * cols + j] - mean[j]) / scale[j];
    }

    /** Indices of the k largest scores, largest first (ties: lower index first); a bounded min-heap, O(p log k). */
    static int[] topK(double[] score, int k) {
        int[] heap = new int[k]; // heap[0] is the weakest kept index
        int size = 0;
        for (int i = 0; i < score.length; i++) {
            if (size < k) {
                heap[size] = i;
                siftUp(heap, size++, score);
            } else if (weaker(heap[0], i, score)) {
                heap[0] = i;
                siftDown(heap, k, score);
            }
        }
        int[] top = new int[k];
        for (int r = k - 1; r >= 0; r--) { // pop weakest first into the back
            top[r] = heap[0];
            heap[0] = heap[--size];
            siftDown(heap, size, score);
        }
        return top;
    }

    /** True when a ranks below b: smaller score, or equal score and larger index. */
    private static boolean weaker(int a, int b, double[] s) {
        return s[a] < s[b] || (s[a] == s[b] && a > b);
    }

    private static void siftUp(int[] h, int i, double[] s) {
        while (i > 0) {
            int parent = (i - 1) / 2;
            if (!weaker(h[i], h[parent], s)) return;
            int t = h[i]; h[i] = h[parent]; h[parent] = t;
            i = parent;
        }
    }

    private static void siftDown(int[] h, int size, double[] s) {
        int i = 0;
        while (true) {
            int l = 2 * i + 1, r = l + 1, m = i;
            if (l < size && weaker(h[l], h[m], s)) m = l;
            if (r < size && weaker(h[r], h[m], s)) m = r;
            if (m == i) return;
            int t = h[i]; h[i] = h[m]; h[m] = t;
            i = m;
        }
    }
}
