package brain2img.eval;

/**
 * What the published network metrics need of one set of reconstructions in one feature space, without keeping
 * the features themselves (AlexNet {@code features.4} is 184,512 values an image):
 * {@code r[s][i][j]} = Pearson r between ground truth i and sample s of reconstruction j, and
 * {@code nearestTraining[j][s]} = the largest r between that sample and any training image (null: no check).
 */
public record NetCorrelations(double[][][] r, double[][] nearestTraining) {
    public NetCorrelations {
        if (r.length == 0) throw new IllegalArgumentException("no samples");
        int n = r[0].length;
        for (double[][] m : r) {
            if (m.length != n) throw new IllegalArgumentException("correlation matrices of different sizes");
            for (double[] row : m) if (row.length != n) throw new IllegalArgumentException("correlation matrix must be square, got " + n + "x" + row.length);
        }
        if (nearestTraining != null && nearestTraining.length != n) throw new IllegalArgumentException(nearestTraining.length + " training rows for " + n + " images");
    }

    public int samples() {
        return r.length;
    }

    public int images() {
        return r[0].length;
    }
}
