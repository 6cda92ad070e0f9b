package brain2img.dir;

/**
 * scipy.ndimage.gaussian_filter on one 2-D plane, as the lab's {@code gaussian_blur} applies it to each colour
 * channel: separable, kernel exp(−x²/2σ²) normalised over radius ⌊4σ + 0.5⌋, mode 'reflect'
 * (d c b a | a b c d | d c b a), first axis then last, as scipy orders them.
 */
public final class GaussianBlur {
    private GaussianBlur() {}

    /** Blurs planes (count, h, w) stored contiguously in v, in place; σ ≤ 0 leaves them unchanged. */
    public static void apply(float[] v, int offset, int planes, int h, int w, double sigma) {
        if (sigma <= 0) return;
        double[] k = kernel(sigma);
        int r = k.length / 2;
        double[] line = new double[Math.max(h, w) + 2 * r];
        for (int c = 0; c < planes; c++) {
            int base = offset + c * h * w;
            for (int x = 0; x < w; x++) { // along the first axis
                for (int i = -r; i < h + r; i++) line[i + r] = v[base + reflect(i, h) * w + x];
                for (int y = 0; y < h; y++) v[base + y * w + x] = (float) dot(line, y, k);
            }
            for (int y = 0; y < h; y++) { // then the last
                for (int i = -r; i < w + r; i++) line[i + r] = v[base + y * w + reflect(i, w)];
                for (int x = 0; x < w; x++) v[base + y * w + x] = (float) dot(line, x, k);
            }
        }
    }

    static double[] kernel(double sigma) {
        int r = (int) (4.0 * sigma + 0.5);
        double[] k = new double[2 * r + 1];
        double sum = 0;
        for (int i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-0.5 * i * i / (sigma * sigma));
        for (int i = 0; i < k.length; i++) k[i] /= sum;
        return k;
    }

    private static double dot(double[] line, int at, double[] k) {
        double s = 0;
        for (int j = 0; j < k.length; j++) s += line[at + j] * k[j];
        return s;
    }

    /** scipy's 'reflect' boundary: the edge sample is repeated (half-sample symmetric), periodic over 2n. */
    static int reflect(int i, int n) {
        int period = 2 * n;
        int m = ((i % period) + period) % period;
        return m < n ? m : period - 1 - m;
    }
}
