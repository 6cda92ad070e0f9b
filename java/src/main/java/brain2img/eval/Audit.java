package brain2img.eval;

import brain2img.util.Parallel;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Scores reconstructions of n test images — K samples each — against their ground truth, and every null
 * baseline the same way, then summarises with bootstrap CIs and paired permutation p-values.
 *
 * <p>Per image and metric the headline is the mean over all K samples; the best sample by ground truth is
 * kept separately as a labelled optimistic bound. Metrics (per image):
 * <ul>
 * <li>{@code pixcorr}, {@code ssim}: MindEye's definitions ({@link PixCorr}, {@link Ssim}) at 425 pixels;</li>
 * <li>{@code twoway_S}, {@code twoway_S_takagi}, {@code nway_top1_S}: {@link Identification} in space S, where
 *     S = {@code pixel} is the flattened picture at the ground truth's own resolution (reconstructions resized
 *     to it; optionally capped, see {@link Options}) and any other S is a feature space given as vectors;</li>
 * <li>{@code memorised_pixel}: the fraction of samples that correlate more with some training picture than
 *     with their own ground truth (pixel space) — 0 means no sign of retrieval from the training set;</li>
 * <li>the published network metrics ({@link NetMetric}: {@code alexnet2} … {@code swav}, {@code takagi_*}), from
 *     the entry's {@link NetCorrelations} under the same key (computed when the entry is scored, so only one
 *     entry's correlations are held at a time), with {@code memorised_<key>} where training images were given.</li>
 * </ul>
 */
public final class Audit {
    public static final String PIXEL = "pixel";

    /**
     * Bootstrap resamples, random sign patterns (when n &gt; 16) and the seed of both; {@code pixelSide} &gt; 0
     * caps the longer side of the pixel space used for identification and the memorisation check (large
     * training sets at 425 pixels would not fit in memory), 0 keeps the ground truth's resolution.
     */
    public record Options(int bootstrap, int permutations, long seed, int pixelSide) {
        public Options(int bootstrap, int permutations, long seed) {
            this(bootstrap, permutations, seed, 0);
        }

        public static Options defaults() {
            return new Options(2000, 10000, 42, 0);
        }
    }

    /**
     * One set of reconstructions: {@code samples[i][k]} is sample k of test image i; {@code features} maps a
     * feature space to vectors {@code [i][k][d]} of the same samples; {@code nets} gives, when asked (once, as
     * the entry is scored), the published network metrics' correlations by metrics.json key.
     */
    public record Entry(String name, Picture[][] samples, Map<String, double[][][]> features, Supplier<Map<String, NetCorrelations>> nets) {
        public Entry {
            if (samples.length == 0) throw new IllegalArgumentException(name + ": no reconstructions");
            for (Picture[] s : samples) if (s.length == 0) throw new IllegalArgumentException(name + ": an image without samples");
            features = features == null ? Map.of() : features;
            nets = nets == null ? Map::of : nets;
        }

        public Entry(String name, Picture[][] samples, Map<String, double[][][]> features) {
            this(name, samples, features, null);
        }

        /** One sample per image, no feature spaces. */
        public static Entry of(String name, Picture[] pictures) {
            Picture[][] s = new Picture[pictures.length][];
            for (int i = 0; i < pictures.length; i++) s[i] = new Picture[]{pictures[i]};
            return new Entry(name, s, Map.of());
        }

        int samplesPerImage() {
            int k = samples[0].length;
            for (Picture[] s : samples) if (s.length != k) throw new IllegalArgumentException(name + ": images have different sample counts");
            return k;
        }
    }

    /** Per-image scores of one entry: headline (mean over samples) and best-of-K (max over samples). */
    public record Scores(String name, int samples, Map<String, double[]> perImage, Map<String, double[]> bestOfK) {}

    private final Picture[] truth;
    private final Map<String, double[][]> truthFeatures;
    private final Picture[] training;
    private final Options options;
    private final Picture[] truth425, truth425Grey;
    private final Map<Integer, double[][]> truthPixels = new LinkedHashMap<>(), trainingPixels = new LinkedHashMap<>();

    /**
     * @param truth         the n ground-truth pictures, all of one size
     * @param truthFeatures ground-truth vectors {@code [i][d]} per feature space (may be empty)
     * @param training      training-set pictures for the memorisation check (may be empty: then it is skipped)
     */
    public Audit(Picture[] truth, Map<String, double[][]> truthFeatures, Picture[] training, Options options) {
        if (truth.length < 2) throw new IllegalArgumentException("an audit needs at least 2 test images, got " + truth.length);
        for (Picture p : truth) {
            if (p.height() != truth[0].height() || p.width() != truth[0].width()) {
                throw new IllegalArgumentException("ground-truth pictures differ in size: " + truth[0].height() + "x" + truth[0].width()
                        + " and " + p.height() + "x" + p.width());
            }
        }
        this.truth = truth.clone();
        this.truthFeatures = truthFeatures == null ? Map.of() : truthFeatures;
        this.training = training == null ? new Picture[0] : training.clone();
        this.options = options;
        this.truth425 = new Picture[truth.length];
        this.truth425Grey = new Picture[truth.length];
        for (int i = 0; i < truth.length; i++) {
            truth425[i] = truth[i].resizeShortSide(PixCorr.SIZE);
            truth425Grey[i] = truth425[i].grey();
        }
    }

    public int images() {
        return truth.length;
    }

    public Options options() {
        return options;
    }

    /** Per-image scores of one entry. */
    public Scores score(Entry e) {
        int n = truth.length;
        if (e.samples().length != n) throw new IllegalArgumentException(e.name() + ": " + e.samples().length + " reconstructions for " + n + " test images");
        int k = e.samplesPerImage();
        Map<String, double[][]> perSample = new LinkedHashMap<>(); // metric → [i][k]
        double[][] pix = new double[n][k], ssim = new double[n][k];
        int channels = pixelChannels(e);
        double[][][] vectors = new double[n][k][];
        // images are independent: PixCorr and SSIM at 425 pixels dominate the cost, so spread them over the cores
        Parallel.forRange(n, 1, (from, to) -> {
            for (int i = from; i < to; i++) scoreImage(e, i, channels, pix[i], ssim[i], vectors[i]);
        });
        perSample.put("pixcorr", pix);
        perSample.put("ssim", ssim);
        Map<String, double[]> takagi = new LinkedHashMap<>();
        identify(PIXEL, truthPixels(channels), vectors, perSample, takagi);
        for (var f : truthFeatures.entrySet()) {
            double[][][] v = e.features().get(f.getKey());
            if (v == null) continue;
            if (v.length != n) throw new IllegalArgumentException(e.name() + ": " + v.length + " feature vectors in " + f.getKey() + " for " + n + " images");
            identify(f.getKey(), f.getValue(), v, perSample, takagi);
        }
        if (training.length > 0) {
            perSample.put("memorised_" + PIXEL, FeatureScores.memorised(truthPixels(channels), trainingPixels(channels), vectors));
        }
        Map<String, NetCorrelations> nets = e.nets().get();
        for (var c : nets.entrySet()) scoreNet(e.name(), c.getKey(), c.getValue(), n, k, perSample, takagi);

        Map<String, double[]> mean = new LinkedHashMap<>(), best = new LinkedHashMap<>();
        for (var m : perSample.entrySet()) {
            mean.put(m.getKey(), reduce(m.getValue(), false));
            // the best sample by ground truth: the highest score, or the smallest distance
            if (Metrics.hasBestOfK(m.getKey())) best.put(m.getKey(), Metrics.lowerIsBetter(m.getKey()) ? smallest(m.getValue()) : reduce(m.getValue(), true));
            String t = m.getKey().startsWith("twoway_") ? m.getKey() + "_takagi" : null;
            if (t != null && takagi.containsKey(t)) mean.put(t, takagi.get(t));
        }
        for (String key : nets.keySet()) if (takagi.containsKey(key)) mean.put(key, takagi.get(key));
        return new Scores(e.name(), k, mean, best);
    }

    /** One published network metric of an entry, from its correlations with the ground truths. */
    private static void scoreNet(String entry, String key, NetCorrelations c, int n, int k, Map<String, double[][]> perSample,
                                 Map<String, double[]> perImage) {
        NetMetric m = NetMetric.byKey(key);
        if (m == null) throw new IllegalArgumentException(entry + ": no published metric named " + key);
        if (c.images() != n || c.samples() != k) {
            throw new IllegalArgumentException(entry + ": " + key + " correlations for " + c.images() + " images × " + c.samples() + " samples, expected " + n + " × " + k);
        }
        switch (m.scoring()) {
            case TWO_WAY -> perSample.put(key, FeatureScores.twoWay(c));
            case DISTANCE -> perSample.put(key, FeatureScores.distance(c));
            case TWO_WAY_TAKAGI -> perImage.put(key, FeatureScores.twoWayTakagi(c));
        }
        if (c.nearestTraining() != null) perSample.put("memorised_" + key, FeatureScores.memorised(c));
    }

    /** PixCorr, SSIM and the pixel-space vector of every sample of image i. */
    private void scoreImage(Entry e, int i, int channels, double[] pix, double[] ssim, double[][] vectors) {
        for (int s = 0; s < pix.length; s++) {
            Picture rec = e.samples()[i][s];
            Picture r425 = rec.resizeShortSide(PixCorr.SIZE);
            Picture[] pair = PixCorr.sameChannels(r425, truth425[i]);
            if (pair[0].data().length != pair[1].data().length) {
                throw new IllegalArgumentException(e.name() + ": reconstruction " + i + " is " + rec.height() + "x" + rec.width()
                        + ", not the aspect of its ground truth " + truth[i].height() + "x" + truth[i].width());
            }
            pix[s] = Correlation.pearson(pair[0].data(), pair[1].data());
            ssim[s] = Ssim.ssim(r425.grey().data(), truth425Grey[i].data(), r425.height(), r425.width());
            vectors[s] = pixelVector(rec, channels);
        }
    }

    /**
     * Scores every entry and summarises: for each reconstruction kind, a p-value against every null not in
     * {@code untested} (the ceiling is a reference, not a null to beat).
     */
    public AuditResult run(List<Entry> kinds, List<Entry> nulls, Collection<String> untested) {
        return run(List.of(new Group(kinds, nulls)), untested);
    }

    /** Reconstruction kinds and the nulls made the same way, the only ones they are tested against. */
    public record Group(List<Entry> kinds, List<Entry> nulls) {}

    /**
     * Several groups in one result (one metrics.json): each group's kinds get p-values only against that group's
     * nulls — a method variant is tested against nulls rendered by the same variant, not another's.
     */
    public AuditResult run(List<Group> groups, Collection<String> untested) {
        List<Scores> k = new ArrayList<>(), nl = new ArrayList<>();
        Map<String, List<Scores>> against = new LinkedHashMap<>();
        for (Group g : groups) {
            List<Scores> kinds = new ArrayList<>(), nulls = new ArrayList<>();
            for (Entry e : g.kinds()) kinds.add(score(e));
            for (Entry e : g.nulls()) nulls.add(score(e));
            for (Scores s : kinds) against.put(s.name(), List.copyOf(nulls));
            k.addAll(kinds);
            nl.addAll(nulls);
        }
        Set<String> skip = new LinkedHashSet<>(untested);
        return AuditResult.summarise(k, nl, against, skip, truth.length, options);
    }

    /** Two-way (both directions) and top-1 identification of every sample in one space. */
    private static void identify(String space, double[][] truthVectors, double[][][] recVectors,
                                 Map<String, double[][]> perSample, Map<String, double[]> takagi) {
        int n = truthVectors.length, k = recVectors[0].length;
        double[][] twoWay = new double[n][k], top = new double[n][k];
        double[][] meanR = new double[n][n];
        for (int s = 0; s < k; s++) {
            double[][] recs = new double[n][];
            for (int i = 0; i < n; i++) {
                if (recVectors[i].length != k) throw new IllegalArgumentException(space + ": images have different sample counts");
                recs[i] = recVectors[i][s];
            }
            double[][] r = Correlation.matrix(truthVectors, recs);
            double[] tw = Identification.twoWay(r), t1 = Identification.topOne(r);
            for (int i = 0; i < n; i++) {
                twoWay[i][s] = tw[i];
                top[i][s] = t1[i];
                for (int j = 0; j < n; j++) meanR[i][j] += r[i][j] / k;
            }
        }
        perSample.put("twoway_" + space, twoWay);
        perSample.put("nway_top1_" + space, top);
        takagi.put("twoway_" + space + "_takagi", Identification.twoWayTakagi(meanR));
    }

    private int pixelChannels(Entry e) {
        int c = truth[0].channels();
        for (Picture[] s : e.samples()) for (Picture p : s) c = Math.max(c, p.channels());
        return c;
    }

    /** {h, w} of the pixel space for ground truth of h×w: unchanged, or scaled so the longer side is {@code side}. */
    public static int[] pixelSpaceSize(int h, int w, int side) {
        if (side <= 0 || Math.max(h, w) <= side) return new int[]{h, w};
        double f = (double) side / Math.max(h, w);
        return new int[]{Math.max(1, (int) Math.round(h * f)), Math.max(1, (int) Math.round(w * f))};
    }

    /** A picture as a vector in pixel space (the ground truth's resolution, capped) with {@code channels} channels. */
    private double[] pixelVector(Picture p, int channels) {
        int[] hw = pixelSpaceSize(truth[0].height(), truth[0].width(), options.pixelSide());
        Picture r = p.resize(hw[0], hw[1]);
        return (channels == 3 ? r.rgb() : r).data();
    }

    private double[][] truthPixels(int channels) {
        return truthPixels.computeIfAbsent(channels, c -> vectorsOf(truth, c));
    }

    private double[][] trainingPixels(int channels) {
        return trainingPixels.computeIfAbsent(channels, c -> vectorsOf(training, c));
    }

    private double[][] vectorsOf(Picture[] pictures, int channels) {
        double[][] v = new double[pictures.length][];
        for (int i = 0; i < v.length; i++) v[i] = pixelVector(pictures[i], channels);
        return v;
    }

    private static double[] smallest(double[][] perSample) {
        double[] out = new double[perSample.length];
        for (int i = 0; i < out.length; i++) out[i] = java.util.Arrays.stream(perSample[i]).min().orElseThrow();
        return out;
    }

    private static double[] reduce(double[][] perSample, boolean max) {
        double[] out = new double[perSample.length];
        for (int i = 0; i < out.length; i++) {
            double acc = max ? Double.NEGATIVE_INFINITY : 0;
            for (double v : perSample[i]) acc = max ? Math.max(acc, v) : acc + v;
            out[i] = max ? acc : acc / perSample[i].length;
        }
        return out;
    }
}
