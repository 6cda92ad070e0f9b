package brain2img.data;

import brain2img.testing.Shared;
import brain2img.tensor.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real van Gerven digits file (shared/data/vangerven-digits): 90 + 10 trials, 3092 voxels, 28×28 grey
 * images stored column-major. Orientation is checked on pixel values, with the labels (1 = six, 2 = nine):
 * <ul>
 * <li>not transposed: handwritten digits are taller than wide, so the ink's spread along rows (vertical)
 *     exceeds its spread along columns, averaged over all 100 images;</li>
 * <li>not upside down: a six has its closed loop at the bottom, so sixes carry more ink in the bottom half
 *     than in the top half, and more so than nines (whose loop is at the top).</li>
 * </ul>
 * The row-major reading (the transposed images) must fail the first check, so the check can tell them apart.
 */
class DigitsImportTest {
    @TempDir
    static Path tmp;
    static Path mat;
    static Dataset d;

    @BeforeAll
    static void importDigits() throws IOException {
        mat = Shared.require("data/vangerven-digits/digit69_28x28.mat");
        d = MatImporter.run(new MatImporter.Options(mat, MatImporter.X_TRAIN, MatImporter.X_TEST,
                MatImporter.STIM_TRAIN, MatImporter.STIM_TEST, null, true), tmp.resolve("digits"));
    }

    @Test
    void countsAndResponses() {
        assertEquals(90, d.trials(Split.TRAIN).size());
        assertEquals(10, d.trials(Split.TEST).size());
        assertEquals(3092, d.voxels());
        assertArrayEquals(new int[]{1, 28, 28}, d.imageSize());
        MatFile m = MatFile.read(mat);
        MatFile.Var trn = m.get("fmriTrn"), tst = m.get("fmriTest");
        Tensor r = d.responses();
        for (int v : new int[]{0, 1, 1545, 3091}) {
            assertEquals((float) trn.at(7, v), r.getFloat(7L * 3092 + v), 0f);
            assertEquals((float) tst.at(3, v), r.getFloat((90 + 3L) * 3092 + v), 0f);
        }
        // the uint8 pixel at MATLAB (row 13, col 20) of image 5 is stored at 13 + 28*20
        assertEquals((float) (m.get("stimTrn").at(5, 13 + 28 * 20) / 255), d.stimulus(5).getFloat(13 * 28 + 20), 0f);
    }

    @Test
    void imagesAreTheRightWayUp() throws IOException {
        double[] labels = labels();
        double[] spread = inkSpread(d);
        assertTrue(spread[0] > 1.2 * spread[1], "vertical ink spread " + spread[0] + " should exceed horizontal " + spread[1]);
        // (bottom − top) / total ink per image: > 0 for a loop at the bottom
        int sixes = 0, nines = 0, sixesOk = 0, ninesOk = 0;
        double sixMean = 0, nineMean = 0;
        for (int i = 0; i < 100; i++) {
            double[] tb = topBottom(d.stimulus(i));
            double balance = (tb[1] - tb[0]) / (tb[0] + tb[1]);
            if (labels[i] == 1) { sixes++; sixMean += balance; if (balance > 0) sixesOk++; }
            else { nines++; nineMean += balance; if (balance < 0) ninesOk++; }
        }
        sixMean /= sixes;
        nineMean /= nines;
        System.out.printf("digits: %d sixes (bottom-heavy %d, mean balance %.3f), %d nines (top-heavy %d, mean %.3f), spread v %.2f h %.2f%n",
                sixes, sixesOk, sixMean, nines, ninesOk, nineMean, spread[0], spread[1]);
        assertTrue(sixes > 20 && nines > 20, sixes + " sixes, " + nines + " nines");
        // measured: sixes +0.20 (49 of 50 bottom-heavy); nines ≈ 0 (their long tail balances the loop); flipped
        // upside down, the sixes would be top-heavy and the order of the two means reversed
        assertTrue(sixMean > 0.1 && sixesOk >= 0.8 * sixes, "sixes: mean ink balance " + sixMean + ", " + sixesOk + "/" + sixes + " bottom-heavy");
        assertTrue(sixMean - nineMean > 0.1, "sixes should be more bottom-heavy than nines: " + sixMean + " vs " + nineMean);

        Dataset rowMajor = MatImporter.run(new MatImporter.Options(mat, MatImporter.X_TRAIN, MatImporter.X_TEST,
                MatImporter.STIM_TRAIN, MatImporter.STIM_TEST, null, false), tmp.resolve("transposed"));
        double[] t = inkSpread(rowMajor);
        assertTrue(t[1] > 1.2 * t[0], "the row-major reading is the transpose: horizontal " + t[1] + " vs vertical " + t[0]);
    }

    private static double[] labels() {
        MatFile m = MatFile.read(mat);
        double[] out = new double[100];
        System.arraycopy(m.get("labelTrn").data(), 0, out, 0, 90);
        System.arraycopy(m.get("labelTest").data(), 0, out, 90, 10);
        return out;
    }

    /** Ink-weighted standard deviation of the row and of the column coordinate, averaged over all images. */
    private static double[] inkSpread(Dataset ds) {
        double sy = 0, sx = 0;
        for (int i = 0; i < 100; i++) {
            Tensor img = ds.stimulus(i);
            double w = 0, my = 0, mx = 0, vy = 0, vx = 0;
            for (int y = 0; y < 28; y++) for (int x = 0; x < 28; x++) {
                double ink = img.getFloat(y * 28 + x);
                w += ink; my += ink * y; mx += ink * x;
            }
            my /= w; mx /= w;
            for (int y = 0; y < 28; y++) for (int x = 0; x < 28; x++) {
                double ink = img.getFloat(y * 28 + x);
                vy += ink * (y - my) * (y - my); vx += ink * (x - mx) * (x - mx);
            }
            sy += Math.sqrt(vy / w) / 100;
            sx += Math.sqrt(vx / w) / 100;
        }
        return new double[]{sy, sx};
    }

    private static double[] topBottom(Tensor img) {
        double top = 0, bottom = 0;
        for (int y = 0; y < 28; y++) for (int x = 0; x < 28; x++) {
            if (y < 14) top += img.getFloat(y * 28 + x); else bottom += img.getFloat(y * 28 + x);
        }
        return new double[]{top, bottom};
    }
}
