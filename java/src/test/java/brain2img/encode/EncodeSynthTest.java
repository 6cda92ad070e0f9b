package brain2img.encode;

import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.data.Dataset;
import brain2img.data.DatasetWriter;
import brain2img.data.Nifti;
import brain2img.data.Split;
import brain2img.data.Synth;
import brain2img.data.Trial;
import brain2img.data.VolumeGeometry;
import brain2img.eval.Picture;
import brain2img.eval.Stats;
import brain2img.io.Npy;
import brain2img.report.EncodeReport;
import brain2img.ridge.CpuDenseLinAlg;
import brain2img.sd.SdSource;
import brain2img.sd.Vae;
import brain2img.tensor.Tensor;
import brain2img.testing.Assert;
import brain2img.testing.Shared;
import org.apache.commons.math3.stat.correlation.SpearmansCorrelation;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The encoding analysis recovers the synthetic brain's known structure: early voxels (pixel receptive fields) are
 * best explained by pixels and by the VAE latent z, ventral voxels (tuned to scene attributes) by the caption
 * conditioning c; per-voxel r follows the simulated SNR. The tiny SD's VAE has random weights, so z is a weak code
 * of the image (its GroupNorms discard each channel's image mean and scale), yet it beats c in early voxels, whose
 * light-adapted luminance the captions do not describe. Pure noise gives ≤ 5 % significant voxels, and the
 * unique-variance estimate gives a space that generated the data its variance and an unrelated space none.
 */
class EncodeSynthTest {
    @TempDir
    static Path tmp;
    static Dataset ds;
    static EncodeRun.Result result;
    static Path run;

    static EncodeRun.Options options(List<String> spaces, Path weights) {
        return new EncodeRun.Options(EncodeRun.parseSpaces(spaces), List.of(),
                new FeatureSettings(weights, null, 64, 4, 5, 42, 32), EncodingModel.Options.defaults(), 0, 42, true);
    }

    @BeforeAll
    static void analyse() throws Exception {
        Path weights = Shared.sdTiny().resolve("weights");
        Path data = tmp.resolve("synth");
        Synth.generate(data, Synth.Options.of(400, 300, 9).withImageSize(32)); // 360 training images once, 40 test images ×3
        ds = Dataset.open(data);
        run = tmp.resolve("run");
        try (Backend be = new CpuBackend()) {
            result = EncodeRun.run(ds, run, options(List.of("pixels", "z", "c", "unet:mid_block@middle", "zc@0.5"), weights), be,
                    VisionNetLoader.NONE, s -> System.out.println(s));
        }
    }

    private static EncodeRun.SpaceMap map(String space) {
        return result.maps().stream().filter(m -> m.space().name().equals(space)).findFirst().orElseThrow();
    }

    private static double medianR(String space, String roi) {
        return result.rois().stream().filter(r -> r.roi().equals(roi) && r.space().equals(space)).findFirst().orElseThrow().medianR();
    }

    @Test
    void earlyVoxelsPreferPixels_ventralVoxelsPreferCaptions() {
        double pixEarly = medianR("pixels", "early"), zEarly = medianR("z", "early"), cEarly = medianR("c", "early");
        double pixVentral = medianR("pixels", "ventral"), zVentral = medianR("z", "ventral"), cVentral = medianR("c", "ventral");
        System.out.printf("median r: early pixels %.3f z %.3f c %.3f; ventral pixels %.3f z %.3f c %.3f%n",
                pixEarly, zEarly, cEarly, pixVentral, zVentral, cVentral);
        assertTrue(pixEarly > cEarly + 0.1, "early: pixels " + pixEarly + " vs c " + cEarly);
        assertTrue(zEarly > cEarly, "early: z " + zEarly + " vs c " + cEarly);
        assertTrue(cVentral > pixVentral + 0.1, "ventral: c " + cVentral + " vs pixels " + pixVentral);
        assertTrue(cVentral > zVentral + 0.1, "ventral: c " + cVentral + " vs z " + zVentral);
        // the paper's dissociation: z explains early far better than ventral voxels relative to c
        assertTrue(zEarly - zVentral > (cEarly - cVentral) + 0.2, "z early−ventral " + (zEarly - zVentral) + " vs c " + (cEarly - cVentral));
        // the winner map says the same per voxel: most early voxels won by pixels or z, most ventral ones by c
        int[] early = result.roiMembers().get("early"), ventral = result.roiMembers().get("ventral");
        List<String> order = result.maps().stream().map(m -> m.space().name()).toList();
        long earlyLow = Arrays.stream(early).filter(j -> result.winner()[j] >= 0)
                .filter(j -> List.of("pixels", "z").contains(order.get(result.winner()[j]))).count();
        long ventralC = Arrays.stream(ventral).filter(j -> result.winner()[j] >= 0 && order.get(result.winner()[j]).equals("c")).count();
        System.out.printf("winners: %d of %d early voxels by pixels or z, %d of %d ventral voxels by c%n", earlyLow, early.length, ventralC, ventral.length);
        assertTrue(earlyLow > early.length / 2, earlyLow + " of " + early.length + " early voxels won by pixels or z");
        assertTrue(ventralC > ventral.length / 2, ventralC + " of " + ventral.length + " ventral voxels won by c");
    }

    @Test
    void uniqueVarianceOfZAndCSplitsAlongTheHierarchy() {
        EncodeRun.Unique zc = result.uniques().stream().filter(u -> u.a().equals("z") && u.b().equals("c")).findFirst().orElseThrow();
        int[] early = result.roiMembers().get("early"), ventral = result.roiMembers().get("ventral");
        double zE = Stats.median(Arrays.stream(early).mapToDouble(j -> zc.uniqueA()[j]).toArray());
        double zV = Stats.median(Arrays.stream(ventral).mapToDouble(j -> zc.uniqueA()[j]).toArray());
        double cE = Stats.median(Arrays.stream(early).mapToDouble(j -> zc.uniqueB()[j]).toArray());
        double cV = Stats.median(Arrays.stream(ventral).mapToDouble(j -> zc.uniqueB()[j]).toArray());
        System.out.printf("unique variance: z over c early %.3f ventral %.3f; c over z early %.3f ventral %.3f%n", zE, zV, cE, cV);
        assertTrue(zE > zV, "z's unique variance is larger in early than in ventral voxels");
        assertTrue(cV > cE, "c's unique variance is larger in ventral than in early voxels");
        assertTrue(result.uniques().stream().anyMatch(u -> u.a().equals("unet:mid_block@middle") && u.b().equals("z")));
    }

    @Test
    void voxelRFollowsTheSimulatedSnr() {
        // the simulation's own per-voxel signal-to-noise (stats/ncsnr = signal std / noise std), against the best r per voxel
        double[] snr = ds.voxelStat("ncsnr").orElseThrow().toDoubleArray();
        double[] best = new double[snr.length];
        Arrays.fill(best, -1);
        for (EncodeRun.SpaceMap m : result.maps()) for (int j = 0; j < best.length; j++) best[j] = Math.max(best[j], m.r()[j]);
        double rho = new SpearmansCorrelation().correlation(snr, best);
        System.out.printf("Spearman(true SNR, best r) = %.3f%n", rho);
        assertTrue(rho > 0.3, "Spearman correlation of r with the true SNR: " + rho);
    }

    @Test
    void outputsAreConsistent() throws Exception {
        EncodeRun.SpaceMap pix = map("pixels");
        Tensor saved = Npy.read(run.resolve("maps/pixels.npy"));
        assertArrayEquals(new long[]{300, 5}, saved.shape());
        float[] v = saved.toFloatArray();
        for (int j = 0; j < 300; j += 37) {
            assertEquals((float) pix.r()[j], v[j * 5], 0f);
            assertEquals((float) pix.q()[j], v[j * 5 + 3], 0f);
            double nc = ds.voxelStat("noise_ceiling").orElseThrow().toDoubleArray()[j];
            assertEquals(pix.r()[j] / Math.sqrt(nc), v[j * 5 + 4], 1e-5);
        }
        // NIfTI: volume 0 = r at each voxel's grid position, in the data set's affine
        VolumeGeometry g = ds.geometry().orElseThrow();
        Path nii = run.resolve("nifti/pixels.nii.gz");
        assertArrayEquals(new int[]{g.dims()[0], g.dims()[1], g.dims()[2], 5}, Nifti.header(nii).dims());
        assertArrayEquals(g.affine(), Nifti.affine(nii), 1e-6);
        float[] vol = Nifti.readAll(nii);
        for (int j = 0; j < 300; j += 23) assertEquals((float) pix.r()[j], vol[g.voxelIndex()[j]], 0f);
        assertTrue(Files.isRegularFile(run.resolve("nifti/winner.nii.gz")));
        List<String> csv = Files.readAllLines(run.resolve("roi_summary.csv"));
        assertEquals("roi,space,voxels,median_r,fraction_significant,median_nc_r", csv.get(0));
        assertTrue(csv.stream().anyMatch(l -> l.startsWith("early,pixels,")));
        // unique variance files for z vs c and unet vs z; unet:mid_block of the tiny U-Net at an 8×8 latent is 64×1×1
        assertTrue(Files.isRegularFile(run.resolve("maps/unique/z+c.npy")));
        assertTrue(Files.isRegularFile(run.resolve("maps/unique/unet_mid_block_middle+z.npy")));
        assertEquals(64, Npy.read(run.resolve("features/unet_mid_block_middle/test.npy")).dim(1));
    }

    @Test
    void zFeatureIsTheVaeMeanOfTheStimulus() throws Exception {
        int id = ds.imageIds(Split.TEST).get(2);
        Tensor z = Npy.read(run.resolve("features/z/test.npy"));
        try (Backend be = new CpuBackend(); SdSource src = SdSource.open(Shared.sdTiny().resolve("weights"), null)) {
            double[] v = Picture.of(ds.stimulus(id)).resize(64, 64).data();
            float[] img = new float[v.length];
            for (int i = 0; i < v.length; i++) img[i] = (float) (2 * v[i] - 1);
            Tensor mean = be.download(Vae.load(src, be).encode(Tensor.of(img, 1, 3, 64, 64)).mean());
            Assert.assertClose(mean.reshape(1, -1), z.slice(2, 3), 1e-5, "z of test image 2");
        }
    }

    @Test
    void pureNoiseGivesAtMostFivePercentSignificant() throws Exception {
        // the synthetic set's stimuli and trials with every response replaced by independent Gaussian noise
        Path noise = tmp.resolve("noise");
        SplittableRandom rng = new SplittableRandom(5);
        int voxels = 400;
        try (DatasetWriter w = DatasetWriter.create(noise, "pure-noise")) {
            w.responses(ds.trials().size(), voxels);
            float[] rows = new float[ds.trials().size() * voxels];
            for (int i = 0; i < rows.length; i++) rows[i] = (float) rng.nextGaussian();
            w.appendRows(rows);
            for (Trial t : ds.trials()) w.trial(t);
            for (Split s : Split.values()) for (int id : ds.imageIds(s)) w.stimulus(id, ds.stimulus(id));
            w.commit();
        }
        Dataset nd = Dataset.open(noise);
        for (int permutations : new int[]{0, 200}) {
            EncodeRun.Options o = new EncodeRun.Options(EncodeRun.parseSpaces(List.of("pixels")), List.of(),
                    new FeatureSettings(null, null, 64, 4, 5, 42, 32), EncodingModel.Options.defaults(), permutations, 42, false);
            EncodeRun.Result r;
            try (Backend be = new CpuBackend()) {
                r = EncodeRun.run(nd, tmp.resolve("noise-run-" + permutations), o, be, VisionNetLoader.NONE, s -> {});
            }
            EncodeRun.SpaceMap m = r.maps().get(0);
            long small = Arrays.stream(m.p()).filter(p -> p < 0.05).count();
            System.out.printf("pure noise, %d permutations: %d of %d voxels significant at q ≤ 0.05, %d with p < 0.05%n",
                    permutations, m.significant(), voxels, small);
            assertTrue(m.significant() <= 0.05 * voxels, m.significant() + " significant voxels in pure noise");
            // and the p-values are calibrated: about 5 % below 0.05 (binomial 400 × 0.05 = 20 ± 4.4; dependent voxels widen it)
            assertTrue(small >= 4 && small <= 45, small + " voxels with p < 0.05 in pure noise");
            // without a volume geometry the report draws ROI bar charts instead of slice montages
            String html = EncodeReport.render(r, Map.of());
            assertTrue(html.contains("<svg") && !html.contains("data:image/png"), "bar charts, no montage");
        }
    }

    @Test
    void uniqueVarianceGoesToTheGeneratingSpace() {
        // Y = A·W + noise over 240 images shown once (+ 60 test images); B is independent of everything
        SplittableRandom rng = new SplittableRandom(21);
        int nTr = 240, nTe = 60, pa = 30, pb = 40, t = 20;
        Tensor aTr = gaussian(rng, nTr, pa), aTe = gaussian(rng, nTe, pa), bTr = gaussian(rng, nTr, pb), bTe = gaussian(rng, nTe, pb);
        double[] w = gaussian(rng, pa, t).toDoubleArray();
        Tensor yTr = linear(aTr, w, t, rng, 1.0), yTe = linear(aTe, w, t, rng, 1.0);
        int[] rows = new int[nTr];
        Arrays.setAll(rows, i -> i);
        EncodingModel.Options o = EncodingModel.Options.defaults();
        var la = CpuDenseLinAlg.best();
        double[] r2a = VoxelStats.r2(EncodingModel.fit(la, aTr, rows, yTr, aTe, o, s -> {}).predictions(), yTe);
        double[] r2b = VoxelStats.r2(EncodingModel.fit(la, bTr, rows, yTr, bTe, o, s -> {}).predictions(), yTe);
        EncodingModel.Fit joint = EncodingModel.fitBanded(la, aTr, bTr, rows, yTr, aTe, bTe, o, s -> {});
        double[] r2ab = VoxelStats.r2(joint.predictions(), yTe);
        double[] uniqueA = new double[t], uniqueB = new double[t];
        for (int j = 0; j < t; j++) {
            uniqueA[j] = r2ab[j] - r2b[j];
            uniqueB[j] = r2ab[j] - r2a[j];
        }
        double mA = Stats.median(uniqueA), mB = Stats.median(uniqueB), ra = Stats.median(r2a);
        System.out.printf("constructed case: R²(A) %.3f, unique A %.3f, unique B %.4f, ratios %s%n", ra, mA, mB, Arrays.toString(joint.ratio()));
        assertTrue(ra > 0.5, "A explains Y: R² " + ra);
        assertEquals(ra, mA, 0.05, "unique A ≈ R²(A)");
        assertEquals(0, mB, 0.02, "unique B ≈ 0");
        assertTrue(Arrays.stream(joint.ratio()).filter(x -> x >= 1).count() >= t * 3 / 4, "the joint model weights band A up");
    }

    private static Tensor gaussian(SplittableRandom rng, int n, int m) {
        float[] v = new float[n * m];
        for (int i = 0; i < v.length; i++) v[i] = (float) rng.nextGaussian();
        return Tensor.of(v, n, m);
    }

    /** x·w (per column scaled to unit variance) + noise of std {@code noise}. */
    private static Tensor linear(Tensor x, double[] w, int t, SplittableRandom rng, double noise) {
        int n = x.dimInt(0), p = x.dimInt(1);
        float[] xv = x.toFloatArray(), out = new float[n * t];
        for (int i = 0; i < n; i++) for (int j = 0; j < t; j++) {
            double s = 0;
            for (int k = 0; k < p; k++) s += xv[i * p + k] * w[k * t + j];
            out[i * t + j] = (float) (s / Math.sqrt(p) * 1.5 + noise * rng.nextGaussian());
        }
        return Tensor.of(out, n, t);
    }
}
