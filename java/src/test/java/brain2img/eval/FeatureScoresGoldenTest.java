package brain2img.eval;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scoring rules on random feature vectors (no network) against MindEye2's two_way_identification, scipy's
 * correlation distance and Takagi's identification.py as tools/metric_nets_reference.py runs them.
 */
class FeatureScoresGoldenTest {
    static final JsonNode G = MetricGoldens.json().get("feature_level");

    /** truth (7,50), recon (7,3,50), train (5,50) through the Correlator, as NetSuite feeds it. */
    static NetCorrelations correlations() {
        float[][] truth = MetricGoldens.matrix(G.get("truth")), train = MetricGoldens.matrix(G.get("train"));
        JsonNode rec = G.get("recon");
        Correlator c = new Correlator(truth, train);
        Correlator.Builder b = c.builder(rec.get(0).size());
        for (int j = 0; j < rec.size(); j++) {
            float[][] samples = MetricGoldens.matrix(rec.get(j));
            for (int s = 0; s < samples.length; s++) b.add(j, s, samples[s]);
        }
        return b.build();
    }

    @Test
    void marginOfTheGoldenDecisionsIsWideEnough() {
        assertTrue(G.get("margin").asDouble() > 1e-4, "golden decisions too close to call: " + G.get("margin"));
    }

    @Test
    void twoWayDistanceTakagiAndMemorisedMatchTheReference() {
        NetCorrelations c = correlations();
        assertArrayEquals(MetricGoldens.doubles(G.get("two_way").get("mean")), rowMeans(FeatureScores.twoWay(c)), 1e-12);
        assertArrayEquals(MetricGoldens.doubles(G.get("two_way").get("best")), rowMax(FeatureScores.twoWay(c)), 1e-12);
        assertArrayEquals(MetricGoldens.doubles(G.get("distance").get("mean")), rowMeans(FeatureScores.distance(c)), 1e-6);
        assertArrayEquals(MetricGoldens.doubles(G.get("takagi").get("mean")), FeatureScores.twoWayTakagi(c), 1e-12);
        double[] mem = rowMeans(FeatureScores.memorised(c));
        assertArrayEquals(MetricGoldens.doubles(G.get("two_way").get("memorised")), mem, 1e-12);
        assertTrue(mem[3] > 0, "reconstruction 3 sample 0 is a near-copy of training vector 1");
    }

    @Test
    void auditReportsEachRuleUnderItsKeyWithBestOfKAndDirection() {
        NetCorrelations c = correlations();
        int n = c.images(), k = c.samples();
        Picture[] truth = AuditTest.pictures(11, n);
        Picture[][] samples = new Picture[n][k];
        for (int i = 0; i < n; i++) for (int s = 0; s < k; s++) samples[i][s] = truth[i];
        Audit audit = new Audit(truth, Map.of(), new Picture[0], new Audit.Options(200, 500, 42));
        // the same correlations read as a two-way space (alexnet2), a distance (effnet) and Takagi's (takagi_inception)
        Audit.Entry kind = new Audit.Entry("recon", samples, Map.of(), () -> Map.of("alexnet2", c, "effnet", c, "takagi_inception", c));
        // a null whose reconstructions are uncorrelated with everything: distance 1, two-way from ties only
        NetCorrelations flat = new NetCorrelations(new double[k][n][n], null);
        Audit.Entry nul = new Audit.Entry("shuffled", samples, Map.of(), () -> Map.of("alexnet2", flat, "effnet", flat));
        AuditResult r = audit.run(List.of(kind), List.of(nul), List.of());

        assertEquals(mean(MetricGoldens.doubles(G.get("two_way").get("mean"))), r.summary("recon", "alexnet2").mean(), 1e-12);
        assertEquals(mean(MetricGoldens.doubles(G.get("distance").get("mean"))), r.summary("recon", "effnet").mean(), 1e-6);
        assertEquals(mean(MetricGoldens.doubles(G.get("takagi").get("mean"))), r.summary("recon", "takagi_inception").mean(), 1e-12);
        assertEquals(mean(MetricGoldens.doubles(G.get("two_way").get("memorised"))), r.summary("recon", "memorised_alexnet2").mean(), 1e-12);
        // best of K: the largest two-way, the smallest distance; none for Takagi's (already averaged over samples)
        assertEquals(mean(MetricGoldens.doubles(G.get("two_way").get("best"))), r.bestOfK().get("recon").get("alexnet2").mean(), 1e-12);
        assertEquals(mean(MetricGoldens.doubles(G.get("distance").get("best"))), r.bestOfK().get("recon").get("effnet").mean(), 1e-6);
        assertTrue(!r.bestOfK().get("recon").containsKey("takagi_inception"));
        // distances beat the null by being smaller: p is small although the raw values are lower
        assertEquals(1.0, r.summary("nulls.shuffled", "effnet").mean(), 1e-12);
        assertTrue(r.summary("recon", "effnet").pValues().get("shuffled") < 0.01, "distance p " + r.summary("recon", "effnet").pValues());
        assertTrue(r.summary("recon", "alexnet2").pValues().get("shuffled") < 0.01);
        assertEquals(0.5, r.summary("recon", "alexnet2").chance());
        assertTrue(Double.isNaN(r.summary("recon", "effnet").chance()));
    }

    static double[] rowMeans(double[][] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) out[i] = mean(v[i]);
        return out;
    }

    static double[] rowMax(double[][] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) out[i] = java.util.Arrays.stream(v[i]).max().orElseThrow();
        return out;
    }

    static double mean(double[] v) {
        return Stats.mean(v);
    }
}
