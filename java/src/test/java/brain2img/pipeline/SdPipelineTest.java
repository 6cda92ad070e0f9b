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
import brain2img.sd.DdimScheduler;
import brain2img.sd.Sampler;
import brain2img.sd.SdSource;
import brain2img.sd.SeededNoise;
import brain2img.sd.UNet;
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
    /**
     * Relative tolerance between the pipeline's pictures and the ones recomputed here. The pipeline renders the 3
     * test images as one batch, the test renders 1, and the CPU GEMM blocks differently by batch size: observed
     * differences are 0 (scalar fallback) to 2e-6 (vectorised). Another seed moves X_zc and X_c by 0.65;
     * over 90% of the pixels lie strictly inside (0,1), so the clamp hides little.
     */
    private static final double TOL = 1e-5;

    @Test
    void endToEndOnTinyWeights(@TempDir Path tmp) throws Exception {
        Path weights = Shared.sdTiny().resolve("weights");
        Path data = tmp.resolve("synth"), run = tmp.resolve("run");
        Synth.generate(data, Synth.Options.of(30, 200, 5).withImageSize(32)); // 27 training, 3 test images
        // 2 DDIM steps; seed, guidance and strength off their defaults (42, 5, 0.8), so a renderer that ignores the
        // config fails: strength 1 runs both steps where the default would run only the last
        RunConfig cfg = RunConfig.defaults(data, run).withTargets("z,c").withWeights(weights).withSamples(2).withSd(64, 2).withSeed(7)
                .overlay(Json.parse("{\"guidance\": 3.5, \"strength\": 1.0}", "test config"), "test config");
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
            Tensor dz = Npy.read(run.resolve("decoded/z/decoded.npy")), dc = Npy.read(run.resolve("decoded/c/decoded.npy"));
            Tensor xz = Npy.read(run.resolve("recon/X_z.npy"));
            assertArrayEquals(new long[]{3, 1, 3, 64, 64}, xz.shape());
            Assert.assertClose(picture(be.download(vae.decode(latent(dz, 0, vae.scalingFactor())))), xz.get(0).get(0), TOL, "X_z of test image 0");

            // X_c, X_zc and the train_mean null of test image 0, recomputed with the U-Net, DDIM scheduler and VAE called
            // directly: sample s starts from SeededNoise(seed 7+s, stream 0), guidance 3.5 against the empty prompt,
            // X_zc = img2img (diffusers convention, strength 1 of 2 steps: noised to the first timestep, both run)
            // from the re-encoded, clamped X_z picture, conditioned on the decoded c.
            Sampler sampler = new Sampler(UNet.load(src, be), DdimScheduler.load(src), be);
            Tensor uncond = be.download(ClipTextEncoder.load(src, be).encodeTexts(ClipTokenizer.load(src.tokenizerDir()), List.of("")));
            Sampler.Settings s0 = new Sampler.Settings(cfg.sdSteps(), (float) cfg.guidance(), 0, cfg.seed()),
                    s1 = new Sampler.Settings(cfg.sdSteps(), (float) cfg.guidance(), 0, cfg.seed() + 1);
            Tensor xc = picture(be.download(vae.decode(sampler.txt2img(noise(cfg.seed()), context(dc, 0), uncond, s0, Sampler.Progress.NONE))));
            Tensor xzc1 = picture(be.download(vae.decode(sampler.img2img(initLatent(be, vae, dz, 0), noise(cfg.seed() + 1), cfg.strength(),
                    Sampler.Convention.DIFFUSERS, context(dc, 0), uncond, s1, Sampler.Progress.NONE))));
            // train_mean: the training images' mean z and c, through the X_zc renderer
            Tensor mz = Npy.read(run.resolve("decoded/z/train_mean.npy")), mc = Npy.read(run.resolve("decoded/c/train_mean.npy"));
            Assert.assertClose(meanRow(Npy.read(run.resolve("features/z/train.npy"))), mz.slice(0, 1), 1e-6, "train_mean z");
            Assert.assertClose(meanRow(Npy.read(run.resolve("features/c/train.npy"))), mc.slice(2, 3), 1e-6, "train_mean c");
            Tensor mean0 = picture(be.download(vae.decode(sampler.img2img(initLatent(be, vae, mz, 0), noise(cfg.seed()), cfg.strength(),
                    Sampler.Convention.DIFFUSERS, context(mc, 0), uncond, s0, Sampler.Progress.NONE))));

            Tensor xcRun = Npy.read(run.resolve("recon/X_c.npy")), xzcRun = Npy.read(run.resolve("recon/X_zc.npy"));
            Tensor meanRun = Npy.read(run.resolve("recon/train_mean.npy"));
            assertArrayEquals(new long[]{3, 2, 3, 64, 64}, xzcRun.shape());
            Assert.assertClose(xc, xcRun.get(0).get(0), TOL, "X_c of test image 0, sample 0");
            Assert.assertClose(xzc1, xzcRun.get(0).get(1), TOL, "X_zc of test image 0, sample 1");
            Assert.assertClose(mean0, meanRun.get(0).get(0), TOL, "train_mean null of test image 0, sample 0");
            // K samples with seeds 7, 8: different pictures of the same image, far beyond the tolerance
            double seeds = Assert.relErr(xzcRun.get(0).get(0).toFloatArray(), xzcRun.get(0).get(1).toFloatArray());
            assertTrue(seeds > 1000 * TOL, "X_zc samples 0 and 1 differ by only " + seeds);
        }
        assertTrue(java.nio.file.Files.readString(run.resolve("report.html")).contains("X_zc"));
        assertTrue(log.contains("render: X_zc, 2 samples per image (seeds 7..8)"), String.join("\n", log));
    }

    private static Tensor sdImage(Picture p) {
        double[] d = p.data();
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) (2 * d[i] - 1);
        return Tensor.of(f, 1, 3, p.height(), p.width());
    }

    /** Row i of unscaled latents (n, 4·8·8) × scale as a (1,4,8,8) latent. */
    private static Tensor latent(Tensor rows, int i, float scale) {
        float[] v = rows.slice(i, i + 1).toFloatArray();
        for (int j = 0; j < v.length; j++) v[j] *= scale;
        return Tensor.of(v, 1, 4, 8, 8);
    }

    /** Row i of conditionings (n, 77·D) as a (1,77,D) context. */
    private static Tensor context(Tensor rows, int i) {
        float[] v = rows.slice(i, i + 1).toFloatArray();
        return Tensor.of(v, 1, ClipTokenizer.CONTEXT_LENGTH, v.length / ClipTokenizer.CONTEXT_LENGTH);
    }

    /** The initial latent of sample seed: SeededNoise with stream 0, (1,4,8,8). */
    private static Tensor noise(long seed) {
        return SeededNoise.normal(seed, 0, 1, 4, 8, 8);
    }

    /** X_zc's start: the X_z picture of row i (clamped to [0,1]) back to [-1,1], VAE-encoded, its mean × scaling factor. */
    private static Tensor initLatent(Backend be, Vae vae, Tensor z, int i) {
        float[] img = picture(be.download(vae.decode(latent(z, i, vae.scalingFactor())))).toFloatArray();
        for (int j = 0; j < img.length; j++) img[j] = (float) (2.0 * img[j] - 1);
        float[] mean = be.download(vae.encode(Tensor.of(img, 1, 3, 64, 64)).mean()).toFloatArray();
        for (int j = 0; j < mean.length; j++) mean[j] *= vae.scalingFactor();
        return Tensor.of(mean, 1, 4, 8, 8);
    }

    /** A decoded (1,3,64,64) SD image in [-1,1] → the (3,64,64) picture the pipeline saves: (x+1)/2 clamped to [0,1]. */
    private static Tensor picture(Tensor img) {
        float[] v = img.toFloatArray();
        for (int j = 0; j < v.length; j++) v[j] = Math.max(0, Math.min(1, (v[j] + 1) / 2));
        return Tensor.of(v, 3, 64, 64);
    }

    private static Tensor meanRow(Tensor m) {
        int n = m.dimInt(0), w = m.dimInt(1);
        float[] v = m.toFloatArray(), mean = new float[w];
        for (int i = 0; i < n; i++) for (int j = 0; j < w; j++) mean[j] += v[i * w + j] / n;
        return Tensor.of(mean, 1, w);
    }
}
