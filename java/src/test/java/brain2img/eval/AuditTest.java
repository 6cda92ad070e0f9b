package brain2img.eval;

import brain2img.io.Json;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AuditTest {
    static final int N = 8, SIZE = 16;

    /** Smooth random pictures (sums of a few Gaussian blobs) so that different images correlate weakly. */
    static Picture[] pictures(long seed, int count) {
        Random rnd = new Random(seed);
        Picture[] out = new Picture[count];
        for (int p = 0; p < count; p++) {
            double[] d = new double[SIZE * SIZE];
            for (int b = 0; b < 3; b++) {
                double cy = rnd.nextDouble() * SIZE, cx = rnd.nextDouble() * SIZE, s = 2 + 2 * rnd.nextDouble();
                for (int y = 0; y < SIZE; y++) for (int x = 0; x < SIZE; x++) {
                    d[y * SIZE + x] += Math.exp(-((y - cy) * (y - cy) + (x - cx) * (x - cx)) / (2 * s * s)) / 3;
                }
            }
            out[p] = new Picture(1, SIZE, SIZE, d);
        }
        return out;
    }

    static Picture mean(Picture[] ps) {
        double[] m = new double[ps[0].data().length];
        for (Picture p : ps) for (int i = 0; i < m.length; i++) m[i] += p.data()[i] / ps.length;
        return new Picture(1, SIZE, SIZE, m);
    }

    @Test
    void perfectReconstructionsAgainstClosedFormNulls(@TempDir Path tmp) throws Exception {
        Picture[] truth = pictures(1, N), training = pictures(2, 20);
        Audit audit = new Audit(truth, Map.of(), training, new Audit.Options(500, 1000, 42));
        Picture[] trainMean = new Picture[N], nearest = new Picture[N];
        for (int i = 0; i < N; i++) {
            trainMean[i] = mean(training);
            nearest[i] = training[i];
        }
        AuditResult r = audit.run(List.of(Audit.Entry.of("pixels", truth)),
                List.of(Audit.Entry.of("train_mean", trainMean), Audit.Entry.of("nearest_train", nearest), Audit.Entry.of("ceiling", truth)),
                List.of("ceiling"));

        for (String m : List.of("pixcorr", "ssim", "twoway_pixel", "twoway_pixel_takagi", "nway_top1_pixel")) {
            assertEquals(1.0, r.summary("pixels", m).mean(), 1e-12, m);
        }
        assertEquals(0.0, r.summary("pixels", "memorised_pixel").mean(), 0);
        // one picture for all images: column j ranks corr(gt_i, m) against corr(gt_j, m); over all j the
        // wins sum to n(n−1)/2, so MindEye's two-way is exactly 1/2; Takagi's row has only ties → 0
        assertEquals(0.5, r.summary("nulls.train_mean", "twoway_pixel").mean(), 1e-15);
        assertEquals(0.0, r.summary("nulls.train_mean", "twoway_pixel_takagi").mean(), 0);
        // training pictures as reconstructions are training pictures: all memorised
        assertEquals(1.0, r.summary("nulls.nearest_train", "memorised_pixel").mean(), 0);
        // beating a null on all 8 images: exact p = 2^-8; no p-value against the ceiling (a tie, not a null)
        AuditResult.Summary pix = r.summary("pixels", "pixcorr");
        assertEquals(1.0 / 256, pix.pValues().get("train_mean"), 0);
        assertFalse(pix.pValues().containsKey("ceiling"));
        assertTrue(pix.interval().low() <= pix.mean() && pix.mean() <= pix.interval().high());

        Path json = tmp.resolve("metrics.json");
        r.writeMetricsJson(json, Map.of("targets", "pixels"));
        JsonNode root = Json.read(json);
        assertEquals(1.0, root.at("/pixels/pixcorr/mean").asDouble(), 1e-12);
        // where the null also scores 1 the difference is 0 and both signs tie: each such image doubles p
        int ties = 0;
        for (double v : r.nulls().get(0).perImage().get("twoway_pixel")) if (v == 1) ties++;
        assertEquals(Math.pow(2, ties) / 256, root.at("/pixels/twoway_pixel/p_value/train_mean").asDouble(), 0);
        assertEquals(0.5, root.at("/nulls/train_mean/twoway_pixel/mean").asDouble(), 1e-15);
        assertEquals(0.5, root.at("/nulls/train_mean/twoway_pixel/chance").asDouble(), 0);
        assertTrue(root.at("/nulls/train_mean/pixcorr").has("ci_low"));
        assertFalse(root.at("/nulls/train_mean/pixcorr").has("p_value"));
        assertEquals("pixels", root.at("/settings/targets").asText());
        assertTrue(root.at("/optimistic_best_of_k/pixels/pixcorr").has("mean"));

        Path csv = tmp.resolve("per_image.csv");
        int[] ids = new int[N];
        for (int i = 0; i < N; i++) ids[i] = 100 + i;
        r.writePerImageCsv(csv, ids);
        List<String> lines = Files.readAllLines(csv);
        assertEquals(1 + 4 * N, lines.size());
        assertTrue(lines.get(0).startsWith("entry,image_index,image_id,pixcorr,ssim,twoway_pixel,twoway_pixel_takagi"), lines.get(0));
        assertTrue(lines.get(1).startsWith("pixels,0,100,1.00000,1.00000"), lines.get(1));
        assertTrue(lines.get(1 + N).startsWith("nulls.train_mean,0,100,"), lines.get(1 + N));
    }

    @Test
    void headlineIsTheMeanOverSamplesAndBestOfKIsSeparate() {
        Picture[] truth = pictures(3, N), noise = pictures(4, N);
        Picture[][] samples = new Picture[N][];
        for (int i = 0; i < N; i++) samples[i] = new Picture[]{truth[i], noise[i]};
        Audit audit = new Audit(truth, Map.of(), new Picture[0], new Audit.Options(200, 1000, 42));
        Audit.Scores s = audit.score(new Audit.Entry("X_zc", samples, Map.of()));
        assertEquals(2, s.samples());
        for (int i = 0; i < N; i++) {
            double noisy = PixCorr.score(noise[i], truth[i]);
            assertEquals((1 + noisy) / 2, s.perImage().get("pixcorr")[i], 1e-12);
            assertEquals(1.0, s.bestOfK().get("pixcorr")[i], 1e-12);
        }
        assertFalse(s.perImage().containsKey("memorised_pixel")); // no training pictures given
    }

    @Test
    void featureSpacesAreIdentifiedFromGivenVectors() {
        Picture[] truth = pictures(5, 3);
        // ground-truth vectors and reconstruction vectors built so that r = corr(gt_i, rec_j) is known:
        // rec 0 ∝ gt 0, rec 1 ∝ gt 2 (wrong), rec 2 ∝ gt 2
        double[][] gt = {{1, 0, 0, -1}, {0, 1, -1, 0}, {1, 1, -1, -1}};
        double[][][] rec = {{{2, 0, 0, -2}}, {{1, 1, -1, -1}}, {{3, 3, -3, -3}}};
        Audit audit = new Audit(truth, Map.of("clip", gt), new Picture[0], new Audit.Options(100, 100, 1));
        Audit.Scores s = audit.score(new Audit.Entry("X_c", new Picture[][]{{truth[0]}, {truth[1]}, {truth[2]}}, Map.of("clip", rec)));
        // corr(gt0,gt2) = corr(gt1,gt2) = 1/√2, corr(gt0,gt1) = 0.
        // rec 0: own 1 beats 0 and 1/√2 → 1; rec 1 (∝ gt2): own gt1 gives 1/√2, gt0 1/√2 (tie), gt2 1 → 0;
        // rec 2: own 1 beats both → 1
        assertEquals(List.of(1.0, 0.0, 1.0), box(s.perImage().get("twoway_clip")));
        assertEquals(List.of(1.0, 0.0, 1.0), box(s.perImage().get("nway_top1_clip")));
        // Takagi rows: gt0: own 1 vs 1/√2, 1/√2 → 1; gt1: own 1/√2 vs 0 (win), 1/√2 (tie) → 1/2; gt2: own 1 vs 1/√2, 1 → 1/2
        assertEquals(List.of(1.0, 0.5, 0.5), box(s.perImage().get("twoway_clip_takagi")));
    }

    private static List<Double> box(double[] v) {
        return java.util.Arrays.stream(v).boxed().toList();
    }
}
