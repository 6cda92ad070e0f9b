package brain2img.eval;

import brain2img.backend.Backend;
import brain2img.vision.VisionNet;
import brain2img.vision.VisionNets;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * What the published network metrics cost: per picture, each network at each preprocessing (timed forward
 * passes on random pictures, full-size networks with the weights of a nets folder or random ones), plus the
 * correlation of one reconstruction with every ground truth; then the projection for a whole evaluation:
 * {@code images × samples × sets} reconstructions, the ground truths once, the training images once (cached
 * afterwards).
 *
 * @param nets      weights folder, or null for random full-size weights (written to a temporary folder)
 * @param sets      reconstruction kinds + nulls scored (each K samples)
 * @param side      side of the random test pictures (NSD stimuli: 425)
 */
public final class EvalBench {
    public record Options(Path nets, int images, int samples, int sets, int training, int side, int batch, int reps, long seed) {
        public Options {
            if (images < 2 || samples < 1 || sets < 1 || training < 0 || side < 8 || batch < 1 || reps < 1) {
                throw new IllegalArgumentException("images ≥ 2, samples, sets, batch, reps ≥ 1, training ≥ 0, side ≥ 8");
            }
        }
    }

    /** Ground truths each reconstruction is correlated with in the timed correlation (the cost scales linearly in n). */
    static final int TIMED_TRUTHS = 32;

    private EvalBench() {}

    public static void run(Backend be, Options o, PrintStream out) throws IOException {
        Path tmp = o.nets() == null ? Files.createTempDirectory("brain2img-evalbench") : null;
        try {
            Path dir = o.nets() != null ? o.nets() : tmp;
            MetricNets.Discovery found = o.nets() != null ? MetricNets.discover(dir) : null;
            out.printf(Locale.ROOT, "bench eval: %s networks, pictures %d², batch %d, %d timed rep(s) after a warm-up; backend %s%n",
                    o.nets() != null ? "the weights of " + dir : "random full-size", o.side(), o.batch(), o.reps(), be.getClass().getSimpleName());
            if (found != null) found.missing().forEach(m -> out.println("  " + m));
            out.println(String.format(Locale.ROOT, "%-10s %-28s %-26s %10s %14s", "network", "nodes", "input", "s/picture", "corr s/recon"));
            double perPicture = 0, perRecon = 0;
            List<Picture> pics = pictures(o.batch(), o.side(), o.seed());
            for (MetricNets.Family fam : MetricNets.FAMILIES) {
                MetricNets.Found f = found == null ? new MetricNets.Found(fam, RandomNets.write(fam, dir, o.seed()), null)
                        : found.found().stream().filter(x -> x.family().equals(fam)).findFirst().orElse(null);
                if (f == null) continue;
                try (VisionNet net = VisionNets.open(fam.arch(), f.weights(), f.config(), be)) {
                    for (var group : groups(fam.name())) {
                        NetInput in = group.get(0).input();
                        List<String> nodes = group.stream().map(NetMetric::node).distinct().toList();
                        var x = in.batch(pics);
                        release(net.features(x, nodes)); // warm-up
                        long t0 = System.nanoTime();
                        java.util.Map<String, brain2img.tensor.Tensor> feats = null;
                        for (int r = 0; r < o.reps(); r++) {
                            if (feats != null) release(feats);
                            feats = net.features(x, nodes);
                        }
                        double s = (System.nanoTime() - t0) / 1e9 / o.reps() / o.batch();
                        double corr = 0;
                        for (String node : nodes) {
                            long d = feats.get(node).numel() / o.batch();
                            // with every ground truth, and with every training image where the memorisation check runs
                            long against = o.images() + ((long) o.training() * d <= NetSuite.TRAINING_VALUES_LIMIT ? o.training() : 0);
                            corr += correlationSeconds((int) d, o.seed()) * against / TIMED_TRUTHS;
                        }
                        release(feats);
                        perPicture += s;
                        perRecon += corr;
                        out.printf(Locale.ROOT, "%-10s %-28s %-26s %10.3f %14.4f%n", fam.name(), String.join(",", nodes),
                                (in.squareFirst() > 0 ? in.squareFirst() + "²→" : "") + "short " + in.shortSide() + (in.crop() > 0 ? " crop " + in.crop() : ""), s, corr);
                    }
                }
                if (tmp != null) Files.deleteIfExists(f.weights());
            }
            long recon = (long) o.images() * o.samples() * o.sets();
            double reconS = recon * (perPicture + perRecon), truthS = o.images() * perPicture, trainS = o.training() * perPicture;
            out.printf(Locale.ROOT, "per picture: %.3f s in the networks; per reconstruction %.4f s correlating with %d ground truths (and %d training images where checked)%n",
                    perPicture, perRecon, o.images(), o.training());
            out.printf(Locale.ROOT, "projected: %d reconstructions (%d images × %d samples × %d sets) %.1f h + %d ground truths %.2f h + %d training images %.1f h (once, then cached)%n",
                    recon, o.images(), o.samples(), o.sets(), reconS / 3600, o.images(), truthS / 3600, o.training(), trainS / 3600);
        } finally {
            if (tmp != null) deleteTree(tmp);
        }
    }

    private static void release(java.util.Map<String, brain2img.tensor.Tensor> feats) {
        for (var t : feats.values()) if (t.isOnDevice()) t.close();
    }

    /** The metric groups of a family: one list of metrics per distinct preprocessing. */
    private static List<List<NetMetric>> groups(String family) {
        java.util.Map<String, List<NetMetric>> g = new java.util.LinkedHashMap<>();
        for (NetMetric m : NetMetric.ALL) if (m.family().equals(family)) g.computeIfAbsent(m.input().describe(), k -> new ArrayList<>()).add(m);
        return new ArrayList<>(g.values());
    }

    private static List<Picture> pictures(int n, int side, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Picture> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            double[] d = new double[3 * side * side];
            for (int j = 0; j < d.length; j++) d[j] = r.nextDouble();
            out.add(new Picture(3, side, side, d));
        }
        return out;
    }

    /** Seconds for one reconstruction vector of d values against {@link #TIMED_TRUTHS} ground truths. */
    private static double correlationSeconds(int d, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[][] truth = new float[TIMED_TRUTHS][d];
        for (float[] t : truth) for (int j = 0; j < d; j++) t[j] = (float) r.nextGaussian();
        Correlator c = new Correlator(truth, null);
        Correlator.Builder b = c.builder(1);
        float[] v = truth[1].clone();
        // repeated until the JIT has compiled the Vector API loop (interpreted it is ~100× slower): best of ≥ 1.5 s
        double best = Double.MAX_VALUE;
        long start = System.nanoTime();
        for (int rep = 0; rep < 10_000 && (rep < 5 || System.nanoTime() - start < 1_500_000_000L); rep++) {
            long t0 = System.nanoTime();
            b.add(0, 0, v);
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        return best;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
