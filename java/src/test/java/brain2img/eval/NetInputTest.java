package brain2img.eval;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class NetInputTest {
    /** The golden's preprocessing names (tools/metric_nets_reference.py) → brain2img's definitions. */
    static final Map<String, NetInput> INPUTS = Map.of(
            "mindeye_256_imagenet", NetMetric.byKey("alexnet2").input(),
            "mindeye_342_imagenet", NetMetric.byKey("inception").input(),
            "mindeye_224_clip", NetMetric.byKey("clip").input(),
            "mindeye_255_imagenet", NetMetric.byKey("effnet").input(),
            "mindeye_224_imagenet", NetMetric.byKey("swav").input(),
            "takagi", NetMetric.byKey("takagi_inception").input());

    @Test
    void everyPreprocessingMatchesTorchvision() {
        JsonNode g = MetricGoldens.json().get("preprocess");
        Picture truth0 = MetricGoldens.pictures("metric-truth.npy")[0]; // 40×48: the 256² squash and the 299 crop both matter
        assertEquals(INPUTS.size(), g.size());
        for (var e : INPUTS.entrySet()) {
            JsonNode ref = g.get(e.getKey());
            Picture x = e.getValue().apply(truth0);
            assertArrayEquals(new int[]{ref.get("shape").get(0).asInt(), ref.get("shape").get(1).asInt(), ref.get("shape").get(2).asInt()},
                    new int[]{x.channels(), x.height(), x.width()}, e.getKey() + " shape");
            int plane = x.height() * x.width(), stride = ref.get("stride").asInt();
            double[] sums = MetricGoldens.doubles(ref.get("channel_sums"));
            for (int c = 0; c < 3; c++) {
                double s = 0;
                for (int i = 0; i < plane; i++) s += x.data()[c * plane + i];
                assertEquals(sums[c], s, 1e-6 * plane, e.getKey() + " channel " + c + " sum");
            }
            double[] strided = MetricGoldens.doubles(ref.get("strided"));
            int k = 0;
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < x.height(); y += stride) {
                    for (int xx = 0; xx < x.width(); xx += stride) {
                        assertEquals(strided[k++], x.data()[(c * x.height() + y) * x.width() + xx], 1e-5, e.getKey() + " at " + c + "," + y + "," + xx);
                    }
                }
            }
            assertEquals(strided.length, k, e.getKey() + " strided count");
        }
    }

    @Test
    void batchIsFloat32NchwOfTheSteps() {
        Picture[] truth = MetricGoldens.pictures("metric-truth.npy");
        NetInput in = NetMetric.byKey("clip").input();
        var t = in.batch(java.util.List.of(truth[0], truth[1]));
        assertArrayEquals(new long[]{2, 3, 224, 224}, t.shape());
        double[] one = in.apply(truth[1]).data();
        for (int i = 0; i < one.length; i += 997) assertEquals((float) one[i], t.getFloat(one.length + i));
    }

    @Test
    void plainBilinearDownsamplingReadsTwoTaps() {
        // 6 → 2 without antialias: source x = 3·(i+0.5) − 0.5 = 1, 4 → exactly pixels 1 and 4 (no averaging)
        double[] out = Resize.bilinear(new double[]{0, 10, 20, 30, 40, 50}, 1, 1, 6, 1, 2, false);
        assertArrayEquals(new double[]{10, 40}, out, 1e-12);
    }

    @Test
    void centreCropRoundsHalfToEvenAsPython() {
        // width 7 → 4: offset round(1.5) = 2; width 5 → 4: round(0.5) = 0
        double[] d = {0, 1, 2, 3, 4, 5, 6};
        assertArrayEquals(new double[]{2, 3, 4, 5}, new Picture(1, 1, 7, d).centreCrop(1, 4).data());
        assertArrayEquals(new double[]{0, 1, 2, 3}, new Picture(1, 1, 5, new double[]{0, 1, 2, 3, 4}).centreCrop(1, 4).data());
    }
}
