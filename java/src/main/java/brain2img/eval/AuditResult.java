package brain2img.eval;

import brain2img.io.AtomicFiles;
import brain2img.io.Json;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The outcome of an {@link Audit}: per-image scores of every reconstruction kind and null, and their
 * summaries. Writes {@code metrics.json} in the structure later checks read:
 * <pre>
 * { "pixels": { "pixcorr": {"mean", "ci_low", "ci_high", "p_value": {"shuffled": …, …}}, … },
 *   "nulls": { "shuffled": { "pixcorr": {"mean", "ci_low", "ci_high"}, … }, … },
 *   "optimistic_best_of_k": { "pixels": { "pixcorr": {…}, … } },
 *   "settings": { … } }
 * </pre>
 * Metric objects also carry {@code chance} where one is defined.
 */
public final class AuditResult {
    /** One metric of one entry. */
    public record Summary(Stats.Interval interval, double chance, Map<String, Double> pValues) {
        public double mean() {
            return interval.mean();
        }
    }

    private final List<Audit.Scores> kinds, nulls;
    private final Map<String, List<Audit.Scores>> against; // kind name → the nulls it is tested against
    private final Set<String> untested;
    private final int images;
    private final Audit.Options options;
    private final Map<String, Map<String, Summary>> summaries = new LinkedHashMap<>();
    private final Map<String, Map<String, Summary>> bestOfK = new LinkedHashMap<>();

    private AuditResult(List<Audit.Scores> kinds, List<Audit.Scores> nulls, Map<String, List<Audit.Scores>> against, Set<String> untested, int images,
                        Audit.Options options) {
        this.kinds = List.copyOf(kinds);
        this.nulls = List.copyOf(nulls);
        this.against = Map.copyOf(against);
        this.untested = untested;
        this.images = images;
        this.options = options;
    }

    static AuditResult summarise(List<Audit.Scores> kinds, List<Audit.Scores> nulls, Map<String, List<Audit.Scores>> against, Set<String> untested, int n,
                                 Audit.Options o) {
        AuditResult r = new AuditResult(kinds, nulls, against, untested, n, o);
        for (Audit.Scores s : nulls) r.summaries.put(nullKey(s.name()), r.summarise(s, List.of()));
        for (Audit.Scores s : kinds) {
            r.summaries.put(s.name(), r.summarise(s, r.nullsOf(s.name())));
            Map<String, Summary> best = new LinkedHashMap<>();
            for (var m : s.bestOfK().entrySet()) {
                best.put(m.getKey(), new Summary(Stats.bootstrap(m.getValue(), o.bootstrap(), o.seed()), Metrics.chance(m.getKey(), n), Map.of()));
            }
            r.bestOfK.put(s.name(), best);
        }
        return r;
    }

    private Map<String, Summary> summarise(Audit.Scores s, List<Audit.Scores> against) {
        Map<String, Summary> out = new LinkedHashMap<>();
        for (var m : s.perImage().entrySet()) {
            Map<String, Double> p = new LinkedHashMap<>();
            if (Metrics.tested(m.getKey())) {
                for (Audit.Scores nul : against) {
                    double[] ns = nul.perImage().get(m.getKey());
                    if (ns == null || untested.contains(nul.name())) continue;
                    // distances: the method beats the null by being smaller
                    p.put(nul.name(), Metrics.lowerIsBetter(m.getKey())
                            ? Stats.pairedPermutationP(negated(m.getValue()), negated(ns), options.permutations(), options.seed())
                            : Stats.pairedPermutationP(m.getValue(), ns, options.permutations(), options.seed()));
                }
            }
            out.put(m.getKey(), new Summary(Stats.bootstrap(m.getValue(), options.bootstrap(), options.seed()), Metrics.chance(m.getKey(), images), p));
        }
        return out;
    }

    private static double[] negated(double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) out[i] = -v[i];
        return out;
    }

    static String nullKey(String nullName) {
        return "nulls." + nullName;
    }

    /** The summary of a metric for a kind ("pixels") or a null ("nulls.shuffled"). */
    public Summary summary(String entry, String metric) {
        Map<String, Summary> m = summaries.get(entry);
        if (m == null) throw new IllegalArgumentException("no audit entry " + entry + " (have " + summaries.keySet() + ")");
        Summary s = m.get(metric);
        if (s == null) throw new IllegalArgumentException(entry + " has no metric " + metric + " (have " + m.keySet() + ")");
        return s;
    }

    public Map<String, Map<String, Summary>> summaries() {
        return summaries;
    }

    public Map<String, Map<String, Summary>> bestOfK() {
        return bestOfK;
    }

    public List<Audit.Scores> kinds() {
        return kinds;
    }

    public List<Audit.Scores> nulls() {
        return nulls;
    }

    /** The nulls a kind is tested against: its group's (see {@link Audit#run(List, Collection)}). */
    public List<Audit.Scores> nullsOf(String kind) {
        List<Audit.Scores> n = against.get(kind);
        if (n == null) throw new IllegalArgumentException("no kind " + kind + " (have " + against.keySet() + ")");
        return n;
    }

    public Set<String> untested() {
        return untested;
    }

    public int images() {
        return images;
    }

    /** metrics.json as a tree; {@code settings} (run options, versions) is copied in under "settings". */
    public ObjectNode toJson(Map<String, ?> settings) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        for (Audit.Scores k : kinds) root.set(k.name(), metricsNode(summaries.get(k.name())));
        ObjectNode nullsNode = root.putObject("nulls");
        for (Audit.Scores n : nulls) nullsNode.set(n.name(), metricsNode(summaries.get(nullKey(n.name()))));
        ObjectNode best = root.putObject("optimistic_best_of_k");
        best.put("note", "best sample of K chosen by ground truth: an optimistic bound, not a result");
        for (var e : bestOfK.entrySet()) best.set(e.getKey(), metricsNode(e.getValue()));
        ObjectNode set = root.putObject("settings");
        set.put("images", images);
        set.put("bootstrap_resamples", options.bootstrap());
        set.put("ci", "95% percentile bootstrap over test images");
        set.put("p_value", "one-sided paired sign-flip permutation test over images (exact for n <= " + Stats.EXACT_LIMIT + ", else "
                + options.permutations() + " draws)");
        set.put("seed", options.seed());
        set.put("pixel_space_side", options.pixelSide() > 0 ? options.pixelSide() + " (longer side cap)" : "ground-truth resolution");
        for (Audit.Scores k : kinds) set.put("samples_" + k.name(), k.samples());
        if (!untested.isEmpty()) set.set("not_tested_against", Json.MAPPER.valueToTree(untested));
        if (settings != null) for (var e : settings.entrySet()) set.set(e.getKey(), Json.MAPPER.valueToTree(e.getValue()));
        return root;
    }

    private static ObjectNode metricsNode(Map<String, Summary> metrics) {
        ObjectNode node = Json.MAPPER.createObjectNode();
        for (var m : metrics.entrySet()) {
            Summary s = m.getValue();
            ObjectNode o = node.putObject(m.getKey());
            o.put("mean", s.interval().mean());
            o.put("ci_low", s.interval().low());
            o.put("ci_high", s.interval().high());
            if (!Double.isNaN(s.chance())) o.put("chance", s.chance());
            if (!s.pValues().isEmpty()) {
                ObjectNode p = o.putObject("p_value");
                for (var e : s.pValues().entrySet()) p.put(e.getKey(), e.getValue());
            }
        }
        return node;
    }

    public void writeMetricsJson(Path file, Map<String, ?> settings) throws IOException {
        Json.write(file, toJson(settings));
    }

    /**
     * One row per (entry, test image): {@code entry,image_index,image_id,<metrics…>,best_of_k.<metric>…};
     * entries are the kinds by name and the nulls as {@code nulls.<name>}.
     */
    public void writePerImageCsv(Path file, int[] imageIds) throws IOException {
        if (imageIds.length != images) throw new IllegalArgumentException(imageIds.length + " image ids for " + images + " images");
        Set<String> metrics = new LinkedHashSet<>(), best = new LinkedHashSet<>();
        List<Audit.Scores> all = new ArrayList<>(kinds);
        all.addAll(nulls);
        for (Audit.Scores s : all) {
            metrics.addAll(s.perImage().keySet());
            best.addAll(s.bestOfK().keySet());
        }
        StringBuilder sb = new StringBuilder("entry,image_index,image_id");
        for (String m : metrics) sb.append(',').append(m);
        for (String m : best) sb.append(",best_of_k.").append(m);
        sb.append('\n');
        for (Audit.Scores s : all) {
            String name = kinds.contains(s) ? s.name() : nullKey(s.name());
            for (int i = 0; i < images; i++) {
                sb.append(name).append(',').append(i).append(',').append(imageIds[i]);
                for (String m : metrics) sb.append(',').append(cell(s.perImage().get(m), i));
                for (String m : best) sb.append(',').append(cell(s.bestOfK().get(m), i));
                sb.append('\n');
            }
        }
        AtomicFiles.write(file, sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static String cell(double[] v, int i) {
        return v == null ? "" : String.format(Locale.ROOT, "%.6g", v[i]);
    }
}
