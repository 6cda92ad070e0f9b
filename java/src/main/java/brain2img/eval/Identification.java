package brain2img.eval;

/**
 * Identification scores from a similarity matrix {@code r[i][j] = corr(groundTruth_i, reconstruction_j)}
 * (n×n, image i's own pair on the diagonal). Comparisons are strict ({@code <}) as in the reference code, so
 * ties count as failures.
 */
public final class Identification {
    private Identification() {}

    /**
     * MindEye's two-way identification, per reconstruction j: the fraction of the other ground truths i ≠ j
     * with {@code r[i][j] < r[j][j]}. Its mean over j is the published number (chance 0.5).
     */
    public static double[] twoWay(double[][] r) {
        int n = square(r);
        double[] out = new double[n];
        for (int j = 0; j < n; j++) {
            int wins = 0;
            for (int i = 0; i < n; i++) if (i != j && r[i][j] < r[j][j]) wins++;
            out[j] = (double) wins / (n - 1);
        }
        return out;
    }

    /**
     * Takagi &amp; Nishimoto's direction, per ground truth i: the fraction of the other reconstructions j ≠ i
     * with {@code r[i][j] < r[i][i]} (their code averages r over the samples of each image first).
     */
    public static double[] twoWayTakagi(double[][] r) {
        int n = square(r);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            int wins = 0;
            for (int j = 0; j < n; j++) if (j != i && r[i][j] < r[i][i]) wins++;
            out[i] = (double) wins / (n - 1);
        }
        return out;
    }

    /**
     * N-way top-1 identification among all n images, per reconstruction j: 1 when its own ground truth is
     * strictly the most correlated of the n, else 0 (chance 1/n).
     */
    public static double[] topOne(double[][] r) {
        int n = square(r);
        double[] out = new double[n];
        for (int j = 0; j < n; j++) {
            boolean best = true;
            for (int i = 0; i < n && best; i++) if (i != j && r[i][j] >= r[j][j]) best = false;
            out[j] = best ? 1 : 0;
        }
        return out;
    }

    private static int square(double[][] r) {
        int n = r.length;
        if (n < 2) throw new IllegalArgumentException("identification needs at least 2 images, got " + n);
        for (double[] row : r) if (row.length != n) throw new IllegalArgumentException("similarity matrix must be square, got " + n + "x" + row.length);
        return n;
    }
}
