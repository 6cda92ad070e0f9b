package brain2img.ridge;

import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import brain2img.util.Parallel;

import java.util.Arrays;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Ridge with the alpha chosen per target by cross-validation, for trials whose feature rows repeat: every trial of
 * image i has the image's features x_i, as when an experiment shows each image several times. It gives exactly
 * {@link RidgeCVPredict}'s trial-level result with CV grouped by image (intercept on, no standardisation), without
 * ever forming the trial × feature matrix, because the trial-level problem
 * <pre>  min_{w,b} Σ_trials (y_t − b − x_{i(t)}·w)² + α‖w‖²</pre>
 * equals, up to a constant that does not depend on (w, b), the image-level weighted problem
 * <pre>  min_{w,b} Σ_i n_i (ȳ_i − b − x_i·w)² + α‖w‖²</pre>
 * with n_i the image's trial count and ȳ_i its mean response. With the training images' trial mean μ = Σ n_i x_i / Σ n_i
 * this is ordinary ridge on X̃ = diag(√n)(X − 1μᵀ) and Ỹ = diag(√n)(Ȳ − 1ȳᵀ), ȳ the training trials' mean.
 *
 * <p>The held-out score is the trial-level R² too: for a held-out image h, Σ_{t of h} (y_t − ŷ_h)² =
 * n_h (ȳ_h − ŷ_h)² + Σ_{t of h} (y_t − ȳ_h)², the second term fixed per fold and target; SST is around the held-out
 * trials' mean. Responses are first shifted by each target's overall mean, so the sums of squares behind those
 * constants do not cancel large offsets.
 *
 * <p>The features come as a {@link Design}: the rows themselves (primal form, eigendecomposition of X̃ᵀX̃, p × p),
 * or the Gram matrix G = X Xᵀ of all images (kernel form, eigendecomposition of X̃X̃ᵀ, which is G centred with the
 * weights: (G − m1ᵀ − 1mᵀ + c) scaled by √n on both sides, m = G·n/Σn, c = nᵀG n/(Σn)²). Either way held-out
 * predictions are ȳ + Z D_α Q with Q = Lᵀ Ỹ, as in {@link RidgeSolve}, so one decomposition per fold serves every
 * alpha and targets stream in blocks.
 */
public final class RepeatedRidgeCV {
    /** Targets reduced together in one pass over the trials (the per-image sums of a block: images × COLUMNS doubles). */
    private static final int COLUMNS = 256;

    private RepeatedRidgeCV() {}

    /** The features of the training images (rows 0…train−1) and the test images (the rows after them). */
    public sealed interface Design {
        /** Training images. */
        int train();

        /** Training plus test images. */
        int images();

        /** The decomposition of the training images s (weights w) with the held-out images h in its basis. */
        Basis prepare(DenseLinAlg la, int[] s, double[] w, int[] h, DType dt);
    }

    /** Features (images, p) as rows, used as they are (the caller standardises them). */
    public record Rows(Tensor x, int train) implements Design {
        public int images() { return x.dimInt(0); }

        public Basis prepare(DenseLinAlg la, int[] s, double[] w, int[] h, DType dt) {
            int p = x.dimInt(1);
            double[] mu = new double[p];
            double total = Arrays.stream(w).sum();
            for (int a = 0; a < s.length; a++) {
                long base = (long) s[a] * p;
                for (int j = 0; j < p; j++) mu[j] += w[a] * x.getDouble(base + j);
            }
            for (int j = 0; j < p; j++) mu[j] /= total;
            Tensor xs = Kernels.centredRows(x, s, 0, p, mu, null, dt); // (nS, p) → X̃ after the row weights
            Kernels.scaleRows(xs, sqrt(w));
            Tensor g = Tensor.allocateHeap(dt, p, p);
            la.matmul(true, false, xs, xs, g);
            RidgeSolve.Eigen eig = RidgeSolve.Eigen.of(la, Kernels.symmetricF64(g), dt);
            Tensor l = Tensor.allocateHeap(dt, s.length, p); // L = X̃ Eᵀ
            la.matmul(false, true, xs, eig.e(), l);
            Tensor z = Tensor.allocateHeap(dt, h.length, p); // Z = (X_h − μ) Eᵀ
            la.matmul(false, true, Kernels.centredRows(x, h, 0, p, mu, null, dt), eig.e(), z);
            return new Basis(eig.lambda(), z, l, false);
        }
    }

    /** The Gram matrix (images, images) of the features, G = X Xᵀ, uncentred. */
    public record Gram(Tensor g, int train) implements Design {
        public int images() { return g.dimInt(0); }

        public Basis prepare(DenseLinAlg la, int[] s, double[] w, int[] h, DType dt) {
            int n = g.dimInt(0), ns = s.length, nh = h.length;
            double total = Arrays.stream(w).sum();
            double[] mS = weightedRowMeans(s, s, w, total), mH = weightedRowMeans(h, s, w, total);
            double c = 0;
            for (int a = 0; a < ns; a++) c += w[a] * mS[a];
            double centre = c / total;
            double[] sw = sqrt(w);
            Tensor k = Tensor.allocateHeap(DType.F64, ns, ns); // X̃ X̃ᵀ, both triangles from (G + Gᵀ)/2
            double[] kd = k.heapDoubles();
            Parallel.forRange(ns, 16, (a0, a1) -> {
                for (int a = a0; a < a1; a++) {
                    long row = (long) s[a] * n;
                    for (int b = 0; b < ns; b++) {
                        double gab = 0.5 * (g.getDouble(row + s[b]) + g.getDouble((long) s[b] * n + s[a]));
                        kd[a * ns + b] = sw[a] * sw[b] * (gab - mS[a] - mS[b] + centre);
                    }
                }
            });
            RidgeSolve.Eigen eig = RidgeSolve.Eigen.of(la, k, dt);
            Tensor kh = Tensor.allocateHeap(dt, nh, ns); // (x_h − μ)·X̃ᵀ
            Parallel.forRange(nh, 16, (a0, a1) -> {
                for (int a = a0; a < a1; a++) {
                    long row = (long) h[a] * n;
                    for (int b = 0; b < ns; b++) kh.setDouble((long) a * ns + b, sw[b] * (g.getDouble(row + s[b]) - mH[a] - mS[b] + centre));
                }
            });
            Tensor z = Tensor.allocateHeap(dt, nh, ns);
            la.matmul(false, true, kh, eig.e(), z);
            return new Basis(eig.lambda(), z, eig.e(), true);
        }

        /** m_a = Σ_b w_b G[rows[a], s[b]] / total. */
        private double[] weightedRowMeans(int[] rows, int[] s, double[] w, double total) {
            int n = g.dimInt(0);
            double[] m = new double[rows.length];
            Parallel.forRange(rows.length, 64, (a0, a1) -> {
                for (int a = a0; a < a1; a++) {
                    long row = (long) rows[a] * n;
                    double acc = 0;
                    for (int b = 0; b < s.length; b++) acc += w[b] * g.getDouble(row + s[b]);
                    m[a] = acc / total;
                }
            });
            return m;
        }
    }

    /**
     * One training set's decomposition: λ (r), Z (held-out images, r), and L with Q = Lᵀ Ỹ; in the kernel form L = Eᵀ
     * and {@code lIsRows} says l holds E itself (r, nS).
     */
    public record Basis(double[] lambda, Tensor z, Tensor l, boolean lIsRows) {
        Tensor targets(DenseLinAlg la, Tensor ytilde) {
            Tensor q = Tensor.allocateHeap(ytilde.dtype(), lambda.length, ytilde.dimInt(1));
            la.matmul(!lIsRows, false, l, ytilde, q);
            return q;
        }
    }

    /**
     * The trials' responses reduced to images, shifted by each target's overall trial mean: per training image its
     * trial count and response sum, per fold and target the held-out trials' within-image sum of squares and their SST.
     */
    record Reduced(double[] mean, int[] count, Tensor sums, double[][] within, double[][] sst) {}

    /**
     * Fits on the trials (image[t] = the training image row of trial t, y (trials, targets)), alpha per target by
     * K-fold CV over the images in order of first appearance among the trials, and predicts the test images.
     */
    public static RidgeCVPredict.Result fit(DenseLinAlg la, Design d, int[] image, Tensor y, double[] alphas, int folds, boolean f64,
                                            Consumer<String> progress) {
        Consumer<String> log = progress != null ? progress : s -> {};
        int n = d.train(), nTe = d.images() - n, t = y.dimInt(1);
        if (y.rank() != 2 || y.dim(0) != image.length) {
            throw new IllegalArgumentException("responses " + y.shapeString() + " for " + image.length + " trials");
        }
        for (int i : image) if (i < 0 || i >= n) throw new IllegalArgumentException("trial image row " + i + " outside the " + n + " training images");
        RidgeCV.requireFinite(y, "responses");
        DType dt = f64 ? DType.F64 : DType.F32;
        int[] trialFold = Folds.assign(image.length, folds, image);
        int[] foldOf = new int[n];
        Arrays.fill(foldOf, -1); // images without a trial take no part
        for (int tr = 0; tr < image.length; tr++) foldOf[image[tr]] = trialFold[tr];
        Reduced red = reduce(y, image, foldOf, n, folds, dt);

        double[][] score = new double[alphas.length][t];
        for (int f = 0; f < folds; f++) {
            long t0 = System.nanoTime();
            int fold = f;
            int[] s = select(n, i -> foldOf[i] >= 0 && foldOf[i] != fold), h = select(n, i -> foldOf[i] == fold);
            Basis b = d.prepare(la, s, weights(red.count, s), h, dt);
            Kernels.scaleRows(b.z(), sqrt(weights(red.count, h))); // held-out residuals count each image n_h times
            scoreFold(la, b, red, s, h, f, alphas, score);
            log.accept(String.format(Locale.ROOT, "fold %d/%d: %d train / %d test images, %s, %d alphas × %d targets in %.1f s",
                    f + 1, folds, s.length, h.length, d instanceof Gram ? "kernel" : "primal", alphas.length, t, (System.nanoTime() - t0) / 1e9));
        }
        for (double[] row : score) for (int j = 0; j < t; j++) row[j] /= folds;
        double[] chosen = RidgeCV.choose(alphas, score, true);

        long t0 = System.nanoTime();
        int[] s = select(n, i -> foldOf[i] >= 0), h = new int[nTe];
        Arrays.setAll(h, i -> n + i);
        Basis b = d.prepare(la, s, weights(red.count, s), h, dt);
        Tensor pred = Tensor.allocateHeap(dt, nTe, t);
        int tb = blockSize(t, dt, s.length, b.lambda().length, nTe);
        for (int c0 = 0; c0 < t; c0 += tb) {
            int c1 = Math.min(t, c0 + tb), w = c1 - c0;
            double[] ybar = trainMean(red, s, c0, c1);
            Tensor q = b.targets(la, weightedDeviations(red, s, ybar, c0, c1, dt));
            Kernels.shrink(q, b.lambda(), chosen, c0); // D_α Q with each target's own alpha
            Tensor pb = Tensor.allocateHeap(dt, nTe, w);
            la.matmul(false, false, b.z(), q, pb);
            for (int i = 0; i < nTe; i++) {
                for (int j = 0; j < w; j++) pred.setDouble((long) i * t + c0 + j, pb.getDouble((long) i * w + j) + ybar[j] + red.mean[c0 + j]);
            }
        }
        log.accept(String.format(Locale.ROOT, "refit on all %d images (%d trials, %s), predicted %d test images in %.1f s",
                s.length, image.length, d instanceof Gram ? "kernel" : "primal", nTe, (System.nanoTime() - t0) / 1e9));
        return new RidgeCVPredict.Result(pred, chosen, score);
    }

    /** Adds each alpha's held-out trial R² of fold f into score[alpha][target]. */
    private static void scoreFold(DenseLinAlg la, Basis b, Reduced red, int[] s, int[] h, int f, double[] alphas, double[][] score) {
        int t = red.sums.dimInt(1), r = b.lambda().length;
        DType dt = red.sums.dtype();
        Tensor zd = Tensor.allocateHeap(dt, h.length, r);
        int tb = blockSize(t, dt, s.length, r, h.length);
        for (int c0 = 0; c0 < t; c0 += tb) {
            int c1 = Math.min(t, c0 + tb), w = c1 - c0;
            double[] ybar = trainMean(red, s, c0, c1);
            Tensor q = b.targets(la, weightedDeviations(red, s, ybar, c0, c1, dt));
            Tensor u = weightedDeviations(red, h, ybar, c0, c1, dt); // √n_h (ȳ_h − ȳ)
            Tensor pred = Tensor.allocateHeap(dt, h.length, w);
            double[] sse = new double[w];
            for (int a = 0; a < alphas.length; a++) {
                double[] dinv = new double[r];
                for (int i = 0; i < r; i++) dinv[i] = 1 / (b.lambda()[i] + alphas[a]);
                Kernels.scaleColumns(b.z(), dinv, zd);
                la.matmul(false, false, zd, q, pred);
                Arrays.fill(sse, 0);
                Kernels.addSquaredDifferences(u, null, pred, sse);
                for (int j = 0; j < w; j++) score[a][c0 + j] += RidgeScores.r2(sse[j] + red.within[f][c0 + j], red.sst[f][c0 + j]);
            }
        }
    }

    /** One pass over the trials: per-target mean, per-image counts and sums, per-fold within-image SS and SST. */
    static Reduced reduce(Tensor y, int[] image, int[] foldOf, int n, int folds, DType dt) {
        int trials = image.length, t = y.dimInt(1);
        int[] count = new int[n];
        for (int i : image) count[i]++;
        int[] foldTrials = new int[folds];
        for (int i = 0; i < n; i++) if (foldOf[i] >= 0) foldTrials[foldOf[i]] += count[i];
        double[] mean = Kernels.columnSums(y);
        for (int j = 0; j < t; j++) mean[j] /= trials;
        Tensor sums = Tensor.allocateHeap(dt, n, t);
        double[][] sq = new double[folds][t], sum = new double[folds][t], within = new double[folds][t], sst = new double[folds][t];
        Parallel.forRange(t, COLUMNS, (from, to) -> { // columns split between threads: each owns its part of every array
            double[] acc = new double[n * COLUMNS];
            for (int j0 = from; j0 < to; j0 += COLUMNS) {
                int j1 = Math.min(to, j0 + COLUMNS), w = j1 - j0;
                Arrays.fill(acc, 0);
                for (int tr = 0; tr < trials; tr++) {
                    int img = image[tr], f = foldOf[img];
                    long base = (long) tr * t;
                    for (int j = j0; j < j1; j++) {
                        double v = y.getDouble(base + j) - mean[j];
                        acc[img * w + j - j0] += v;
                        sq[f][j] += v * v;
                        sum[f][j] += v;
                    }
                }
                for (int img = 0; img < n; img++) {
                    for (int j = j0; j < j1; j++) {
                        double v = acc[img * w + j - j0];
                        sums.setDouble((long) img * t + j, v);
                        if (count[img] > 0) within[foldOf[img]][j] -= v * v / count[img];
                    }
                }
            }
            for (int f = 0; f < folds; f++) {
                for (int j = from; j < to; j++) {
                    within[f][j] += sq[f][j];
                    sst[f][j] = sq[f][j] - sum[f][j] * sum[f][j] / foldTrials[f];
                }
            }
        });
        return new Reduced(mean, count, sums, within, sst);
    }

    /** ȳ[j] = Σ_{i∈s} sums[i, j] / Σ_{i∈s} n_i for targets c0…c1−1. */
    private static double[] trainMean(Reduced red, int[] s, int c0, int c1) {
        int t = red.sums.dimInt(1);
        double[] m = new double[c1 - c0];
        long total = 0;
        for (int i : s) {
            total += red.count[i];
            long base = (long) i * t;
            for (int j = c0; j < c1; j++) m[j - c0] += red.sums.getDouble(base + j);
        }
        for (int j = 0; j < m.length; j++) m[j] /= total;
        return m;
    }

    /** (rows.length, c1−c0): √n_i (ȳ_i − ȳ) = sums_i/√n_i − √n_i ȳ for the images rows. */
    private static Tensor weightedDeviations(Reduced red, int[] rows, double[] ybar, int c0, int c1, DType dt) {
        int t = red.sums.dimInt(1), w = c1 - c0;
        Tensor out = Tensor.allocateHeap(dt, rows.length, w);
        Parallel.forRange(rows.length, 64, (a0, a1) -> {
            for (int a = a0; a < a1; a++) {
                int n = red.count[rows[a]];
                double sq = Math.sqrt(n);
                long base = (long) rows[a] * t;
                for (int j = 0; j < w; j++) out.setDouble((long) a * w + j, red.sums.getDouble(base + c0 + j) / sq - sq * ybar[j]);
            }
        });
        return out;
    }

    private static int blockSize(int t, DType dt, int nTrain, int r, int nHeld) {
        long perColumn = (long) dt.bytes * (nTrain + r + 3L * nHeld);
        return (int) Math.max(1, Math.min(t, RidgeCV.BLOCK_BYTES / perColumn));
    }

    private static int[] select(int n, java.util.function.IntPredicate keep) {
        return java.util.stream.IntStream.range(0, n).filter(keep).toArray();
    }

    private static double[] weights(int[] count, int[] rows) {
        double[] w = new double[rows.length];
        for (int a = 0; a < rows.length; a++) w[a] = count[rows[a]];
        return w;
    }

    private static double[] sqrt(double[] w) {
        double[] out = new double[w.length];
        for (int i = 0; i < w.length; i++) out[i] = Math.sqrt(w[i]);
        return out;
    }
}
