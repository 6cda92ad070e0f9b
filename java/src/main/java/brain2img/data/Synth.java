package brain2img.data;

import brain2img.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A synthetic data set whose ground truth is known and that no one can mistake for real: procedural scenes
 * ({@link SynthScene}) seen by a simulated brain ({@link SynthBrain}). Early-visual voxels make pixel
 * reconstruction by ridge regression feasible; semantic voxels make caption/conditioning decoding feasible.
 * Test images are shown {@code testRepetitions} times (3 by default), training images {@code trainRepetitions}
 * times; trials are shuffled and cut into sessions. With {@code nsdLayout} the same data are written as an NSD
 * tree ({@link SynthNsdTree}) instead, for the NSD importer to read back.
 */
public final class Synth {
    private Synth() {}

    /**
     * @param imageSize        side of the square RGB stimuli
     * @param testFraction     share of images held out as test images
     * @param sessions         number of sessions, or 0 for one per 750 trials (at least two)
     */
    public record Options(int images, int voxels, long seed, double snr, boolean nsdLayout, int imageSize,
                          double testFraction, int trainRepetitions, int testRepetitions, int sessions) {
        public Options {
            if (images < 2) throw new IllegalArgumentException("need at least 2 images, got " + images);
            if (voxels < 2) throw new IllegalArgumentException("need at least 2 voxels, got " + voxels);
            if (!(snr > 0) || Double.isInfinite(snr)) throw new IllegalArgumentException("SNR must be positive, got " + snr);
            if (imageSize < 8) throw new IllegalArgumentException("image size must be at least 8, got " + imageSize);
            if (!(testFraction > 0 && testFraction < 1)) throw new IllegalArgumentException("test fraction must be in (0,1), got " + testFraction);
            if (trainRepetitions < 1 || testRepetitions < 1) throw new IllegalArgumentException("repetitions must be ≥ 1");
            if (sessions < 0) throw new IllegalArgumentException("sessions must be ≥ 0");
        }

        /** 64×64 images, 10 % test images shown 3 times, training images once, SNR 1. */
        public static Options of(int images, int voxels, long seed) {
            return new Options(images, voxels, seed, 1.0, false, 64, 0.1, 1, 3, 0);
        }

        public Options withSnr(double s) { return new Options(images, voxels, seed, s, nsdLayout, imageSize, testFraction, trainRepetitions, testRepetitions, sessions); }
        public Options withNsdLayout(boolean n) { return new Options(images, voxels, seed, snr, n, imageSize, testFraction, trainRepetitions, testRepetitions, sessions); }
        public Options withImageSize(int s) { return new Options(images, voxels, seed, snr, nsdLayout, s, testFraction, trainRepetitions, testRepetitions, sessions); }
        public Options withRepetitions(int train, int test) { return new Options(images, voxels, seed, snr, nsdLayout, imageSize, testFraction, train, test, sessions); }
        public Options withSessions(int n) { return new Options(images, voxels, seed, snr, nsdLayout, imageSize, testFraction, trainRepetitions, testRepetitions, n); }
    }

    /** Writes a synthetic data set (or, with nsdLayout, an NSD tree) at {@code out}. */
    public static void generate(Path out, int images, int voxels, long seed, double snr, boolean nsdLayout) throws IOException {
        generate(out, Options.of(images, voxels, seed).withSnr(snr).withNsdLayout(nsdLayout));
    }

    public static void generate(Path out, Options o) throws IOException {
        Design d = Design.of(o);
        if (o.nsdLayout()) SynthNsdTree.write(out, d);
        else writeDataset(out, d);
    }

    /** Everything both layouts share, derived deterministically from the options. */
    record Design(Options options, List<SynthScene> scenes, SynthBrain brain, boolean[] isTest, int[] trialImage,
                  int[] trialSession, int[] trialRep, int sessions, java.util.Map<Integer, float[]> drifts) {

        static Design of(Options o) {
            SplittableRandom rng = new SplittableRandom(o.seed());
            List<SynthScene> scenes = new ArrayList<>(o.images());
            List<float[]> features = new ArrayList<>(o.images());
            List<double[]> attributes = new ArrayList<>(o.images());
            for (int i = 0; i < o.images(); i++) {
                SynthScene s = SynthScene.random(rng);
                scenes.add(s);
                features.add(SynthBrain.features(s.render(o.imageSize()), o.imageSize()));
                attributes.add(s.attributes());
            }
            SynthBrain brain = SynthBrain.create(o.voxels(), o.snr(), rng.nextLong(), features, attributes);
            int nTest = Math.max(1, (int) Math.round(o.images() * o.testFraction()));
            boolean[] isTest = new boolean[o.images()];
            for (int k = 0; k < nTest; ) { // a random subset of test images
                int i = rng.nextInt(o.images());
                if (!isTest[i]) { isTest[i] = true; k++; }
            }
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < o.images(); i++) {
                int reps = isTest[i] ? o.testRepetitions() : o.trainRepetitions();
                for (int r = 0; r < reps; r++) order.add(i);
            }
            for (int i = order.size() - 1; i > 0; i--) java.util.Collections.swap(order, i, rng.nextInt(i + 1));
            int trials = order.size();
            int sessions = o.sessions() > 0 ? o.sessions() : Math.max(Math.min(2, trials), (trials + 749) / 750);
            if (sessions > trials) throw new IllegalArgumentException(sessions + " sessions for only " + trials + " trials");
            int[] image = new int[trials], session = new int[trials], rep = new int[trials];
            int[] seen = new int[o.images()];
            for (int t = 0; t < trials; t++) {
                image[t] = order.get(t);
                rep[t] = seen[image[t]]++;
                session[t] = 1 + (int) ((long) t * sessions / trials); // 1-based, as NSD numbers sessions
            }
            return new Design(o, List.copyOf(scenes), brain, isTest, image, session, rep, sessions, new java.util.concurrent.ConcurrentHashMap<>());
        }

        int trials() { return trialImage.length; }

        short[] response(int t) {
            return brain.response(t, trialImage[t], drifts.computeIfAbsent(trialSession[t], brain::drift));
        }

        /** Image i as (3,H,W) in [0,1], exactly the 8-bit values rendered. */
        Tensor stimulus(int i) {
            int s = options.imageSize();
            byte[] rgb = scenes.get(i).render(s);
            float[] chw = new float[3 * s * s];
            for (int p = 0; p < s * s; p++) {
                for (int c = 0; c < 3; c++) chw[c * s * s + p] = (rgb[p * 3 + c] & 0xff) / 255f;
            }
            return Tensor.of(chw, 3, s, s);
        }

        /** The ROIs every synthetic data set has, as voxel indices. */
        java.util.Map<String, int[]> rois() {
            java.util.Map<String, int[]> out = new java.util.LinkedHashMap<>();
            int voxels = brain.early.length;
            out.put("nsdgeneral", java.util.stream.IntStream.range(0, voxels).toArray());
            out.put("early", java.util.stream.IntStream.range(0, voxels).filter(v -> brain.early[v]).toArray());
            out.put("ventral", java.util.stream.IntStream.range(0, voxels).filter(v -> !brain.early[v]).toArray());
            for (int a = 1; a < SynthNsdTree.PRF_VISUALROIS.length; a++) {
                final int area = a;
                int[] idx = java.util.stream.IntStream.range(0, voxels).filter(v -> brain.visualArea[v] == area).toArray();
                if (idx.length > 0) out.put(SynthNsdTree.PRF_VISUALROIS[a], idx);
            }
            return out;
        }

        /** The simulated volume with NSD's 1.8 mm centred affine, as the NSD-layout ROI volumes carry it. */
        VolumeGeometry geometry() {
            int[] v = brain.volume;
            int[] fortran = new int[brain.linearIndex.length];
            for (int j = 0; j < fortran.length; j++) {
                int c = brain.linearIndex[j], z = c % v[2], y = (c / v[2]) % v[1], x = c / (v[1] * v[2]);
                fortran[j] = x + v[0] * (y + v[1] * z);
            }
            return new VolumeGeometry(v, VolumeGeometry.centredAffine(v, 1.8f), fortran);
        }

        float[] noiseCeiling() {
            float[] nc = new float[brain.ncsnr.length];
            for (int v = 0; v < nc.length; v++) nc[v] = NsdImporter.noiseCeiling(brain.ncsnr[v], options.testRepetitions());
            return nc;
        }
    }

    private static void writeDataset(Path out, Design d) throws IOException {
        Options o = d.options();
        try (DatasetWriter w = DatasetWriter.create(out, "synthetic-brain-seed" + o.seed())) {
            w.subject("synthetic");
            w.provenance("importer", "synth");
            w.provenance("synthetic", true);
            w.provenance("warning", "SYNTHETIC DATA: procedural scenes and simulated voxels, not fMRI");
            w.provenance("options", o);
            w.provenance("units", "percent signal change, quantised to 1/300 like NSD betas");
            int voxels = o.voxels();
            w.responses(d.trials(), voxels);
            float[] block = new float[Math.min(d.trials(), 256) * voxels];
            for (int t0 = 0; t0 < d.trials(); t0 += 256) {
                int n = Math.min(256, d.trials() - t0);
                for (int k = 0; k < n; k++) {
                    short[] r = d.response(t0 + k);
                    for (int v = 0; v < voxels; v++) block[k * voxels + v] = r[v] / SynthBrain.BETA_SCALE;
                }
                w.appendRows(n == 256 ? block : java.util.Arrays.copyOf(block, n * voxels));
            }
            for (int t = 0; t < d.trials(); t++) {
                int i = d.trialImage()[t];
                w.trial(new Trial(t, i, d.trialSession()[t], d.trialRep()[t], d.isTest()[i] ? Split.TEST : Split.TRAIN));
            }
            for (int i = 0; i < o.images(); i++) {
                w.stimulus(i, d.stimulus(i));
                w.captions(i, d.scenes().get(i).captions());
            }
            d.rois().forEach(w::roi);
            w.voxelStat("ncsnr", d.brain().ncsnr);
            w.voxelStat("noise_ceiling", d.noiseCeiling());
            w.geometry(d.geometry());
            w.commit();
        }
    }
}
