package brain2img.dir;

/** Dense symmetric positive-definite solves on row-major double arrays, small enough to run one per decoded unit. */
final class Cholesky {
    private Cholesky() {}

    /**
     * Solves A x = b for SPD A (n×n, row-major, lower triangle read) in place: A is overwritten by its Cholesky
     * factor L, b by x.
     */
    static void solveInPlace(double[] a, double[] b, int n) {
        for (int j = 0; j < n; j++) {
            int jr = j * n;
            double d = a[jr + j];
            for (int t = 0; t < j; t++) d -= a[jr + t] * a[jr + t];
            if (!(d > 0)) throw new ArithmeticException("matrix not positive definite at pivot " + j);
            double l = Math.sqrt(d);
            a[jr + j] = l;
            for (int i = j + 1; i < n; i++) {
                int ir = i * n;
                double s = a[ir + j];
                for (int t = 0; t < j; t++) s -= a[ir + t] * a[jr + t];
                a[ir + j] = s / l;
            }
        }
        for (int i = 0; i < n; i++) { // L y = b
            int ir = i * n;
            double s = b[i];
            for (int t = 0; t < i; t++) s -= a[ir + t] * b[t];
            b[i] = s / a[ir + i];
        }
        for (int i = n - 1; i >= 0; i--) { // Lᵀ x = y
            double s = b[i];
            for (int t = i + 1; t < n; t++) s -= a[t * n + i] * b[t];
            b[i] = s / a[i * n + i];
        }
    }
}
