package brain2img.eval;

import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.tensor.Tensor;
import brain2img.vision.VisionNet;
import brain2img.vision.VisionNets;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole table — MindEye2's six metrics and Takagi's three, each with best-of-K and the memorisation check —
 * from the reduced torchvision networks and tiny CLIP of tools/metric_nets_reference.py, through the real
 * loaders, preprocessing and forward passes, against MindEye2's and Takagi's code paths run in torch/NumPy/SciPy.
 */
class NetSuiteGoldenTest {
    static final JsonNode G = MetricGoldens.json();
    static final Picture[] TRUTH = MetricGoldens.pictures("metric-truth.npy"), TRAIN = MetricGoldens.pictures("metric-train.npy");
    static final Picture[][] RECON = MetricGoldens.samples("metric-recon.npy");

    static Backend backend;
    static NetSuite suite;
    static final AtomicInteger FORWARDS = new AtomicInteger();
    @TempDir
    static Path cacheDir;

    @BeforeAll
    static void open() throws Exception {
        backend = new CpuBackend();
        suite = NetSuite.open(MetricNets.discover(MetricGoldens.nets()), counting(backend), backend, new FeatureCache(cacheDir), s -> {});
        suite.prepare(List.of(TRUTH), List.of(TRAIN), new FeatureCache(cacheDir), "golden");
    }

    @AfterAll
    static void close() {
        if (suite != null) suite.close();
        if (backend != null) backend.close();
    }

    /** VisionNets.open, counting forward passes (to see the cache at work). */
    static NetSuite.Loader counting(Backend be) {
        return (arch, weights, config) -> {
            VisionNet net = VisionNets.open(arch, weights, config, be);
            return new VisionNet() {
                public String arch() { return net.arch(); }
                public List<String> nodes() { return net.nodes(); }
                public InputSpace inputSpace() { return net.inputSpace(); }
                public Map<String, Tensor> features(Tensor x, Collection<String> nodes) {
                    FORWARDS.incrementAndGet();
                    return net.features(x, nodes);
                }
                public LossGradient lossGradient(Tensor x, Map<String, Tensor> t, Map<String, Double> w) { return net.lossGradient(x, t, w); }
                public void close() { net.close(); }
            };
        };
    }

    @Test
    void everyNodeGivesTorchsFeatures() {
        for (NetMetric m : NetMetric.ALL) {
            JsonNode ref = G.get("features").get(m.key());
            float[] f = suite.features(m, List.of(TRUTH[0]))[0];
            assertEquals(ref.get("dim").asInt(), f.length, m.key() + " dimension");
            double sum = 0, sumsq = 0, scale = 0;
            for (float v : f) {
                sum += v;
                sumsq += (double) v * v;
                scale = Math.max(scale, Math.abs(v));
            }
            double[] head = MetricGoldens.doubles(ref.get("truth0_head"));
            for (int i = 0; i < head.length; i++) assertEquals(head[i], f[i], 1e-5 * Math.max(1, scale), m.key() + " value " + i);
            assertEquals(ref.get("truth0_sumsq").asDouble(), sumsq, 1e-5 * Math.max(1, sumsq), m.key() + " sum of squares");
            assertEquals(ref.get("truth0_sum").asDouble(), sum, 1e-5 * Math.sqrt(f.length) * Math.max(1, scale), m.key() + " sum");
        }
    }

    @Test
    void theWholeTableMatchesTheReferenceTo1e5() {
        Map<String, NetCorrelations> c = suite.correlate(RECON);
        assertEquals(NetMetric.ALL.stream().map(NetMetric::key).toList(), new ArrayList<>(c.keySet()));
        for (NetMetric m : NetMetric.ALL) {
            JsonNode ref = G.get("metrics").get(m.key());
            assertTrue(ref.get("margin").asDouble() > 1e-5, m.key() + ": golden decisions too close to call");
            NetCorrelations nc = c.get(m.key());
            double[] mean = switch (m.scoring()) {
                case TWO_WAY -> FeatureScoresGoldenTest.rowMeans(FeatureScores.twoWay(nc));
                case DISTANCE -> FeatureScoresGoldenTest.rowMeans(FeatureScores.distance(nc));
                case TWO_WAY_TAKAGI -> FeatureScores.twoWayTakagi(nc);
            };
            assertArrayEquals(MetricGoldens.doubles(ref.get("mean")), mean, 1e-5, m.key() + " per image");
            if (ref.has("best")) {
                double[][] per = m.scoring() == NetMetric.Scoring.TWO_WAY ? FeatureScores.twoWay(nc) : FeatureScores.distance(nc);
                double[] best = m.scoring() == NetMetric.Scoring.TWO_WAY ? FeatureScoresGoldenTest.rowMax(per)
                        : Arrays.stream(per).mapToDouble(r -> Arrays.stream(r).min().orElseThrow()).toArray();
                assertArrayEquals(MetricGoldens.doubles(ref.get("best")), best, 1e-5, m.key() + " best of K");
            }
            assertArrayEquals(MetricGoldens.doubles(ref.get("memorised")), FeatureScoresGoldenTest.rowMeans(FeatureScores.memorised(nc)), 1e-5,
                    m.key() + " memorised");
        }
    }

    @Test
    void groundTruthAndTrainingFeaturesComeFromTheCacheTheSecondTime() throws Exception {
        int before = FORWARDS.get();
        suite.prepare(List.of(TRUTH), List.of(TRAIN), new FeatureCache(cacheDir), "golden");
        assertEquals(before, FORWARDS.get(), "no forward pass for cached features");
        suite.prepare(List.of(TRUTH), List.of(TRAIN), new FeatureCache(cacheDir), "other images");
        assertTrue(FORWARDS.get() > before, "a different image set is a different key");
    }
}
