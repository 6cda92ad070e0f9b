package brain2img.eval;

import org.apache.commons.math3.stat.correlation.PearsonsCorrelation;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class IdentificationTest {
    // r[i][j] = corr(ground truth i, reconstruction j)
    static final double[][] R = {
            {0.9, 0.1, 0.2},
            {0.5, 0.8, 0.95},
            {0.3, 0.7, 0.6}};

    @Test
    void mindEyeDirectionComparesWithinEachReconstructionsColumn() {
        // column 0: 0.5, 0.3 < 0.9 → 1; column 1: 0.1, 0.7 < 0.8 → 1; column 2: 0.2 < 0.6 but 0.95 is not → 1/2
        assertArrayEquals(new double[]{1, 1, 0.5}, Identification.twoWay(R), 1e-15);
    }

    @Test
    void takagiDirectionComparesWithinEachGroundTruthsRow() {
        // row 0: 0.1, 0.2 < 0.9 → 1; row 1: 0.5 < 0.8, 0.95 not → 1/2; row 2: 0.3 < 0.6, 0.7 not → 1/2
        assertArrayEquals(new double[]{1, 0.5, 0.5}, Identification.twoWayTakagi(R), 1e-15);
    }

    @Test
    void topOneNeedsTheOwnGroundTruthStrictlyFirst() {
        assertArrayEquals(new double[]{1, 1, 0}, Identification.topOne(R), 0);
        double[][] tie = {{0.5, 0.1}, {0.5, 0.9}};
        assertArrayEquals(new double[]{0, 1}, Identification.topOne(tie), 0);
        assertArrayEquals(new double[]{0, 1}, Identification.twoWay(tie), 0); // a tie is a failure
    }

    @Test
    void correlationMatrixAgreesWithCommonsMath() {
        Random rnd = new Random(7);
        double[][] a = new double[4][50], b = new double[3][50];
        for (double[] v : a) for (int i = 0; i < v.length; i++) v[i] = rnd.nextGaussian();
        for (double[] v : b) for (int i = 0; i < v.length; i++) v[i] = rnd.nextGaussian() * 3 + 1;
        double[][] r = Correlation.matrix(a, b);
        PearsonsCorrelation ref = new PearsonsCorrelation();
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < b.length; j++) assertEquals(ref.correlation(a[i], b[j]), r[i][j], 1e-13);
        }
    }

    @Test
    void aConstantVectorCorrelatesZero() {
        assertEquals(0.0, Correlation.pearson(new double[]{0.4, 0.4, 0.4}, new double[]{1, 2, 3}), 0);
        assertEquals(-1.0, Correlation.pearson(new double[]{1, 2, 3}, new double[]{5, 3, 1}), 1e-15);
    }

    @Test
    void pixCorrIsAffineInvariantAndChannelConsistent() {
        Random rnd = new Random(8);
        Picture p = new Picture(1, 12, 12, SsimTest.random(rnd, 144));
        double[] d = p.data().clone();
        for (int i = 0; i < d.length; i++) d[i] = 1 - 0.5 * d[i];
        Picture q = new Picture(1, 12, 12, d);
        assertEquals(-1.0, PixCorr.score(q, p), 1e-12);
        assertEquals(1.0, PixCorr.score(p.rgb(), p), 1e-12);
    }
}
