package brain2img.ridge;

import brain2img.io.FormatException;
import brain2img.io.SafeTensors;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RidgeModelTest {
    @TempDir
    Path dir;

    @Test
    void saveLoadRoundTripsExactly() throws Exception {
        double[][][] xy = RidgeCVTest.problem(30, 5, 3, 2);
        for (DType dt : new DType[]{DType.F32, DType.F64}) {
            RidgeModel m = RidgeCV.fit(new CpuDenseLinAlg(), RidgeCVTest.tensor(xy[0], DType.F32), RidgeCVTest.tensor(xy[1], DType.F32),
                    RidgeOptions.defaults(0.1, 10, 1000).withF64(dt == DType.F64).withStandardize(true), null, 0);
            m.putMetadata("x_file", "X.npy");
            Path f = dir.resolve("m-" + dt.lower() + ".safetensors");
            m.save(f);
            RidgeModel back = RidgeModel.load(f);
            for (String name : new String[]{"coef", "intercept", "alpha", "cv_score", "x_mean", "x_scale"}) {
                Tensor a = pick(m, name), b = pick(back, name);
                assertEquals(a.dtype(), b.dtype(), name);
                assertArrayEquals(a.shape(), b.shape(), name);
                assertArrayEquals(a.toDoubleArray(), b.toDoubleArray(), name);
            }
            assertEquals(m.metadata(), back.metadata());
            assertEquals("0.1,10.0,1000.0", back.metadata().get("alphas"));
            assertEquals("X.npy", back.metadata().get("x_file"));
            assertArrayEquals(m.predict(RidgeCVTest.tensor(xy[0], DType.F64)).toDoubleArray(),
                    back.predict(RidgeCVTest.tensor(xy[0], DType.F64)).toDoubleArray());
        }
    }

    @Test
    void aRowPredictedAloneEqualsTheSameRowInABatchBitForBit() {
        // wide and narrow targets, depths across the GEMM's 256-deep slices, batches of 1…300 rows
        for (int[] npt : new int[][]{{300, 37, 5}, {120, 300, 700}, {90, 600, 3}}) {
            double[][][] xy = RidgeCVTest.problem(npt[0], npt[1], npt[2], 4);
            for (DType dt : new DType[]{DType.F32, DType.F64}) {
                RidgeModel m = RidgeCV.fit(new CpuDenseLinAlg(), RidgeCVTest.tensor(xy[0], dt), RidgeCVTest.tensor(xy[1], dt),
                        RidgeOptions.defaults(1, 100).withF64(dt == DType.F64).withStandardize(true), null, 0);
                Tensor x = RidgeCVTest.tensor(xy[0], dt);
                double[] batch = m.predict(x).toDoubleArray();
                int t = m.targets();
                for (int i : new int[]{0, 1, npt[0] / 2, npt[0] - 1}) {
                    double[] alone = m.predict(x.get(i).reshape(1, npt[1])).toDoubleArray();
                    assertArrayEquals(java.util.Arrays.copyOfRange(batch, i * t, (i + 1) * t), alone, 0.0, dt + " row " + i + " of " + npt[0]);
                }
            }
        }
    }

    private static Tensor pick(RidgeModel m, String name) {
        return switch (name) {
            case "coef" -> m.coef();
            case "intercept" -> m.intercept();
            case "alpha" -> m.alpha();
            case "cv_score" -> m.cvScore();
            case "x_mean" -> m.xMean();
            default -> m.xScale();
        };
    }

    @Test
    void loadingAnotherSafetensorsFileSaysWhatIsWrong() throws Exception {
        Path f = dir.resolve("weights.safetensors");
        SafeTensors.write(f, Map.of("coef", Tensor.zeros(2, 2)), Map.of());
        var e = assertThrows(FormatException.class, () -> RidgeModel.load(f));
        assertTrue(e.getMessage().contains("not a brain2img ridge model"), e.getMessage());
    }

    @Test
    void scoresFollowTheirDefinitions() {
        // target 0: perfect; target 1: constant truth predicted exactly (R² 1 by convention) ; target 2: mean prediction
        Tensor y = Tensor.of(new double[]{1, 5, 1, 2, 5, 2, 3, 5, 3, 4, 5, 4}, 4, 3);
        Tensor p = Tensor.of(new double[]{1, 5, 2.5, 2, 5, 2.5, 3, 5, 2.5, 4, 5, 2.5}, 4, 3);
        RidgeScores s = RidgeScores.of(y, p);
        assertArrayEquals(new double[]{1, 1, 0}, s.r2(), 1e-15);
        assertArrayEquals(new double[]{1, 0, 0}, s.pearson(), 1e-15);
        // a constant truth that is missed scores 0, as sklearn's r2_score
        assertEquals(0, RidgeScores.r2(3.0, 0));
        // numpy.quantile's default (linear) method
        double[] v = {1, 2, 3, 4};
        assertEquals(1.75, RidgeScores.quantile(v, 0.25), 1e-15);
        assertEquals(2.5, RidgeScores.quantile(v, 0.5), 1e-15);
        assertEquals(3.85, RidgeScores.quantile(v, 0.95), 1e-12);
        Tensor t = s.toTensor();
        assertArrayEquals(new long[]{2, 3}, t.shape());
        assertEquals(1, t.getDouble(3));
    }
}
