package brain2img.pipeline;

import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.data.Dataset;
import brain2img.data.Split;
import brain2img.data.Synth;
import brain2img.eval.AuditResult;
import brain2img.eval.Picture;
import brain2img.io.Json;
import brain2img.io.Npy;
import brain2img.sd.ClipTextEncoder;
import brain2img.sd.ClipTokenizer;
import brain2img.sd.SdSource;
import brain2img.sd.Vae;
import brain2img.tensor.Tensor;
import brain2img.testing.Assert;
import brain2img.testing.Shared;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole Stable Diffusion path (features → fit → decode → render → evaluate → report) on the tiny random
 * SD weights and a small synthetic set. The weights are random, so the pictures mean nothing; what is checked
 * is that every stage computes what it claims, against the SD components called directly.
 */
class SdPipelineTest {
    @Test
    void endToEndOnTinyWeights(@TempDir Path tmp) throws Exception {
        Path weights = Shared.sdTiny().resolve("weights");
        Path data = tmp.resolve("synth"), run = tmp.resolve("run");
        Synth.generate(data, Synth.Options.of(30, 200, 5).withImageSize(32)); // 27 training, 3 test images
        RunConfig cfg = RunConfig.defaults(data, run).withTargets("z,c").withWeights(weights).withSamples(2).withSd(64, 2); // 2 DDIM steps: img2img runs 1
        List<String> log = new ArrayList<>();
        AuditResult r;
        try (Backend be = new CpuBackend()) {
            SdPipeline p = new SdPipeline(cfg, be, log::add);
            p.through(Stages.Stage.REPORT);
            r = p.audit();
        }

        JsonNode m = Json.read(run.resolve("metrics.json"));
        for (String kind : SdPipeline.KINDS) {
            for (String metric : List.of("pixcorr", "ssim", "twoway_pixel", "twoway_z", "twoway_z_takagi", "nway_top1_z")) {
                assertTrue(m.at("/" + kind + "/" + metric + "/mean").isNumber(), kind + " lacks " + metric);
            }
            assertTrue(m.at("/" + kind + "/pixcorr/p_value/shuffled").isNumber());
        }
        for (String nul : SdPipeline.NULLS) assertTrue(m.at("/nulls/" + nul + "/pixcorr/mean").isNumber(), nul);
        assertTrue(m.at("/X_zc/pixcorr/p_value/caption_only").isNumber(), "caption-only is a null to beat");
        assertFalse(m.at("/X_zc/pixcorr/p_value").has("ceiling"));
        assertEquals(2, m.at("/settings/samples_X_zc").asInt());
        assertEquals(1, m.at("/settings/samples_X_z").asInt());
        assertTrue(r.bestOfK().containsKey("X_zc"));

        Dataset ds = Dataset.open(data);
        int[] testIds = Npy.read(run.resolve("features/sd/test_ids.npy")).toIntArray();
        assertEquals(3, testIds.length);
        try (Backend be = new CpuBackend(); SdSource src = SdSource.open(weights, null)) {
            Vae vae = Vae.load(src, be);
            // z target: the VAE posterior mean of the stimulus resized to 64 px, in [-1,1]
            Tensor zFeat = Npy.read(run.resolve("features/z/test.npy"));
            Tensor mean = be.download(vae.encode(sdImage(Picture.of(ds.stimulus(testIds[0])).resize(64, 64))).mean());
            Assert.assertClose(mean.reshape(1, -1), zFeat.slice(0, 1), 1e-5, "z feature of test image 0");
            // c target: CLIP hidden states averaged over the image's captions
            List<String> caps = ds.captions(testIds[1]);
            Tensor h = be.download(ClipTextEncoder.load(src, be).encodeTexts(ClipTokenizer.load(src.tokenizerDir()), caps));
            float[] hv = h.toFloatArray(), avg = new float[hv.length / caps.size()];
            for (int c = 0; c < caps.size(); c++) for (int j = 0; j < avg.length; j++) avg[j] += hv[c * avg.length + j] / caps.size();
            Assert.assertClose(Tensor.of(avg, 1, avg.length), Npy.read(run.resolve("features/c/test.npy")).slice(1, 2), 1e-5, "c feature of test image 1");
            // the ceiling null decodes to the ground-truth targets themselves
            assertArrayEquals(zFeat.toFloatArray(), Npy.read(run.resolve("decoded/z/ceiling.npy")).toFloatArray());
            // X_z is the VAE decoding of the decoded z (scaled), clamped to [0,1]
            Tensor dz = Npy.read(run.resolve("decoded/z/decoded.npy"));
            Tensor scaled = Tensor.of(scale(dz.slice(0, 1).toFloatArray(), vae.scalingFactor()), 1, 4, 8, 8);
            float[] img = be.download(vae.decode(scaled)).toFloatArray();
            for (int j = 0; j < img.length; j++) img[j] = Math.max(0, Math.min(1, (img[j] + 1) / 2));
            Tensor xz = Npy.read(run.resolve("recon/X_z.npy"));
            assertArrayEquals(new long[]{3, 1, 3, 64, 64}, xz.shape());
            Assert.assertClose(Tensor.of(img, 3, 64, 64), xz.get(0).get(0), 1e-5, "X_z of test image 0");
        }
        // K samples with seeds 42, 43: different pictures of the same image
        Tensor xzc = Npy.read(run.resolve("recon/X_zc.npy"));
        assertArrayEquals(new long[]{3, 2, 3, 64, 64}, xzc.shape());
        assertFalse(java.util.Arrays.equals(xzc.get(0).get(0).toFloatArray(), xzc.get(0).get(1).toFloatArray()), "samples 0 and 1 are identical");
        assertTrue(java.nio.file.Files.readString(run.resolve("report.html")).contains("X_zc"));
        assertTrue(log.contains("render: X_zc, 2 samples per image (seeds 42..43)"), String.join("\n", log));
    }

    private static Tensor sdImage(Picture p) {
        double[] d = p.data();
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) (2 * d[i] - 1);
        return Tensor.of(f, 1, 3, p.height(), p.width());
    }

    private static float[] scale(float[] v, float s) {
        float[] o = new float[v.length];
        for (int i = 0; i < v.length; i++) o[i] = v[i] * s;
        return o;
    }
}
