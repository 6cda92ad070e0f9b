package brain2img.eval;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SsimTest {
    static final double C1 = 1e-4, C2 = 9e-4;

    @Test
    void anImageWithItselfIsOne() {
        double[] x = random(new Random(1), 30 * 25);
        assertEquals(1.0, Ssim.ssim(x, x, 30, 25), 1e-12);
    }

    @Test
    void constantImagesFollowTheLuminanceTerm() {
        // no variance anywhere: SSIM = (2ab + C1)·C2 / ((a² + b² + C1)·C2)
        double a = 0.2, b = 0.7;
        double[] x = new double[15 * 15], y = new double[15 * 15];
        Arrays.fill(x, a);
        Arrays.fill(y, b);
        assertEquals((2 * a * b + C1) / (a * a + b * b + C1), Ssim.ssim(x, y, 15, 15), 1e-12);
    }

    @Test
    void aConstantShiftKeepsStructureAndContrastExactly() {
        // y = x + d: equal variances and covariance, so each window scores its luminance term only
        Random rnd = new Random(2);
        int h = 20, w = 18;
        double[] x = random(rnd, h * w), y = new double[h * w];
        for (int i = 0; i < x.length; i++) y[i] = x[i] + 0.1;
        double[] ux = Ssim.gaussianFilter(x, h, w);
        double sum = 0;
        for (int r = 5; r < h - 5; r++) {
            for (int c = 5; c < w - 5; c++) {
                double m = ux[r * w + c], n = m + 0.1;
                sum += (2 * m * n + C1) / (m * m + n * n + C1);
            }
        }
        assertEquals(sum / ((h - 10) * (w - 10)), Ssim.ssim(x, y, h, w), 1e-12);
    }

    @Test
    void separableFilterMatchesADirect2dWindowWithReflectedBorders() {
        Random rnd = new Random(4);
        int h = 23, w = 19;
        double[] x = random(rnd, h * w), y = random(rnd, h * w);
        double[] k = Ssim.KERNEL;
        double sum = 0;
        for (int r = 5; r < h - 5; r++) {
            for (int c = 5; c < w - 5; c++) {
                double mx = 0, my = 0, mxx = 0, myy = 0, mxy = 0;
                for (int a = -5; a <= 5; a++) {
                    for (int b = -5; b <= 5; b++) {
                        double wt = k[a + 5] * k[b + 5];
                        int i = Ssim.reflect(r + a, h) * w + Ssim.reflect(c + b, w);
                        mx += wt * x[i];
                        my += wt * y[i];
                        mxx += wt * x[i] * x[i];
                        myy += wt * y[i] * y[i];
                        mxy += wt * x[i] * y[i];
                    }
                }
                double vx = mxx - mx * mx, vy = myy - my * my, vxy = mxy - mx * my;
                sum += (2 * mx * my + C1) * (2 * vxy + C2) / ((mx * mx + my * my + C1) * (vx + vy + C2));
            }
        }
        assertEquals(sum / ((h - 10) * (w - 10)), Ssim.ssim(x, y, h, w), 1e-12);
    }

    @Test
    void matchesScipyBasedSkimageFormula() {
        // Reference from scipy 1.17 (the building block of skimage.metrics.structural_similarity):
        //   r, c = np.mgrid[0:24, 0:20]; x = ((7r+3c) % 11)/10; y = 0.6x + 0.4((5r+2c) % 13)/12
        //   f = lambda a: gaussian_filter(a, sigma=1.5, mode='reflect', truncate=3.5)
        //   S = ((2 f(x) f(y) + C1)(2 (f(xy) − f(x)f(y)) + C2)) / ((f(x)² + f(y)² + C1)(f(xx) − f(x)² + f(yy) − f(y)² + C2))
        //   S[5:-5, 5:-5].mean() = 0.7885497243357315
        int h = 24, w = 20;
        double[] x = new double[h * w], y = new double[h * w];
        for (int r = 0; r < h; r++) {
            for (int c = 0; c < w; c++) {
                x[r * w + c] = ((r * 7 + c * 3) % 11) / 10.0;
                y[r * w + c] = 0.6 * x[r * w + c] + 0.4 * ((r * 5 + c * 2) % 13) / 12.0;
            }
        }
        assertEquals(0.7885497243357315, Ssim.ssim(x, y, h, w), 1e-12);
    }

    @Test
    void reflectIsHalfSampleSymmetric() {
        int[] got = new int[12];
        for (int i = -4; i < 8; i++) got[i + 4] = Ssim.reflect(i, 4);
        // d c b a | a b c d | d c b a
        org.junit.jupiter.api.Assertions.assertArrayEquals(new int[]{3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0}, got);
    }

    @Test
    void scoreAt425OfASmallPictureWithItselfIsOneAndGreyMatchesRgb() {
        Random rnd = new Random(5);
        Picture g = new Picture(1, 28, 28, random(rnd, 28 * 28));
        assertEquals(1.0, Ssim.score(g, g), 1e-12);
        Picture other = new Picture(1, 28, 28, random(rnd, 28 * 28));
        // a grey picture repeated over RGB has the same grey level (the rgb2gray weights sum to 1)
        assertEquals(Ssim.score(other, g), Ssim.score(other.rgb(), g.rgb()), 1e-12);
    }

    @Test
    void tooSmallImagesAreRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> Ssim.ssim(new double[100], new double[100], 10, 10));
        assertEquals("SSIM needs images of at least 11x11, got 10x10", e.getMessage());
    }

    static double[] random(Random rnd, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = rnd.nextDouble();
        return v;
    }
}
