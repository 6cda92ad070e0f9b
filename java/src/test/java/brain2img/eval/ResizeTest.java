package brain2img.eval;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ResizeTest {
    @Test
    void upsamplingIsHalfPixelBilinearWithClampedEdges() {
        // 1x2 → 1x4: source x = (i+0.5)/2 − 0.5 = −0.25, 0.25, 0.75, 1.25 → clamped 0, 0.25, 0.75, 1
        double[] out = Resize.bilinear(new double[]{0, 1}, 1, 1, 2, 1, 4);
        assertArrayEquals(new double[]{0, 0.25, 0.75, 1}, out, 1e-15);
    }

    @Test
    void downsamplingByTwoUsesTheWidenedTriangle() {
        // 4 → 2 (scale 2, support 2): output 0 centred at 1 takes pixels 0,1,2 with triangle weights
        // 1−|j+0.5−1|/2 = 0.75, 0.75, 0.25; output 1 centred at 3 takes 1,2,3 with 0.25, 0.75, 0.75 (both / 1.75)
        double[] out = Resize.bilinear(new double[]{0, 1, 2, 3}, 1, 1, 4, 1, 2);
        assertArrayEquals(new double[]{1.25 / 1.75, 4.0 / 1.75}, out, 1e-15);
    }

    @Test
    void upsamplingMatchesTheTextbookFormulaIn2d() {
        Random rnd = new Random(3);
        int c = 3, h = 13, w = 9, oh = 30, ow = 20;
        double[] src = new double[c * h * w];
        for (int i = 0; i < src.length; i++) src[i] = rnd.nextDouble();
        double[] got = Resize.bilinear(src, c, h, w, oh, ow);
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    double sy = Math.max(0, (y + 0.5) * h / oh - 0.5), sx = Math.max(0, (x + 0.5) * w / ow - 0.5);
                    int y0 = (int) sy, x0 = (int) sx, y1 = Math.min(y0 + 1, h - 1), x1 = Math.min(x0 + 1, w - 1);
                    double ly = sy - y0, lx = sx - x0;
                    double v = (1 - ly) * ((1 - lx) * src[(ch * h + y0) * w + x0] + lx * src[(ch * h + y0) * w + x1])
                            + ly * ((1 - lx) * src[(ch * h + y1) * w + x0] + lx * src[(ch * h + y1) * w + x1]);
                    assertEquals(v, got[(ch * oh + y) * ow + x], 1e-12, "pixel " + ch + "," + y + "," + x);
                }
            }
        }
    }

    @Test
    void shortSideBecomes425AndTheLongSideFollows() {
        Picture p = new Picture(1, 20, 30, new double[600]);
        Picture r = p.resizeShortSide(425);
        assertEquals(425, r.height());
        assertEquals(637, r.width()); // int(425 * 30 / 20) = int(637.5)
    }

    @Test
    void constantStaysConstantWhenShrinking() {
        double[] src = new double[3 * 50 * 40];
        java.util.Arrays.fill(src, 0.3);
        for (double v : Resize.bilinear(src, 3, 50, 40, 17, 11)) assertEquals(0.3, v, 1e-14);
    }
}
