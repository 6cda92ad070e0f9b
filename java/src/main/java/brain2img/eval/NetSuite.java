package brain2img.eval;

import brain2img.backend.Backend;
import brain2img.tensor.Tensor;
import brain2img.vision.VisionNet;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The published network metrics ({@link NetMetric#ALL}) whose networks a nets folder holds: opens each network
 * once, extracts ground-truth and training features (cached), then correlates any set of reconstructions with
 * them. Metrics of missing networks are absent, each missing network noted once.
 *
 * <p>Every network runs once per distinct preprocessing on every picture, all requested nodes in one pass
 * (AlexNet {@code features.4} and {@code features.11} share MindEye2's 256 input).
 */
public final class NetSuite implements AutoCloseable {
    /** Opens a network: {@code brain2img.vision.VisionNets.open} bound to a backend, or a test's own. */
    @FunctionalInterface
    public interface Loader {
        VisionNet open(String arch, Path weights, Path config);
    }

    /** Pictures per forward pass. */
    static final int BATCH = 8;
    /** The memorisation check keeps training vectors as float32; beyond this many values in one space it is skipped (noted). */
    static final long TRAINING_VALUES_LIMIT = 1L << 28;

    /** One network at one preprocessing, with the metrics (nodes) read from it. */
    private record Group(String family, NetInput input, List<NetMetric> metrics) {
        List<String> nodes() {
            return metrics.stream().map(NetMetric::node).distinct().toList();
        }
    }

    private final Backend backend;
    private final Map<String, VisionNet> nets = new LinkedHashMap<>();
    private final Map<String, String> netIds = new LinkedHashMap<>(); // family → "arch sha256"
    private final List<Group> groups = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final Map<String, Correlator> correlators = new LinkedHashMap<>();
    private final Consumer<String> log;

    private NetSuite(Backend backend, Consumer<String> log) {
        this.backend = backend;
        this.log = log;
    }

    /**
     * Opens the networks of {@code discovery} with {@code loader}; {@code cache} remembers their weights' hashes
     * (the key of every cached feature set).
     */
    public static NetSuite open(MetricNets.Discovery discovery, Loader loader, Backend backend, FeatureCache cache, Consumer<String> log) throws IOException {
        NetSuite s = new NetSuite(backend, log);
        try {
            s.notes.addAll(discovery.missing());
            for (MetricNets.Found f : discovery.found()) {
                String name = f.family().name();
                s.netIds.put(name, f.family().arch() + " sha256:" + cache.weightsHash(f.weights(), f.config()));
                s.nets.put(name, loader.open(f.family().arch(), f.weights(), f.config()));
                log.accept("evaluate: " + name + " network " + f.family().arch() + " from " + f.weights());
            }
            Map<String, Group> byInput = new LinkedHashMap<>();
            for (NetMetric m : NetMetric.ALL) {
                if (!s.nets.containsKey(m.family())) continue;
                byInput.computeIfAbsent(m.family() + "|" + m.input().describe(), k -> new Group(m.family(), m.input(), new ArrayList<>())).metrics().add(m);
            }
            s.groups.addAll(byInput.values());
            return s;
        } catch (RuntimeException | IOException e) {
            s.close();
            throw e;
        }
    }

    /** The metrics this suite computes, in {@link NetMetric#ALL}'s order. */
    public List<NetMetric> metrics() {
        List<NetMetric> out = new ArrayList<>();
        for (NetMetric m : NetMetric.ALL) if (nets.containsKey(m.family())) out.add(m);
        return out;
    }

    /** One line per missing network and per skipped memorisation check. */
    public List<String> notes() {
        return List.copyOf(notes);
    }

    /** Family → architecture and weights hash, for the report's settings. */
    public Map<String, String> networks() {
        return Map.copyOf(netIds);
    }

    /**
     * Ground-truth and training features of every metric, from {@code cache} where present (keyed by weights
     * hash, node, preprocessing and {@code imagesKey}, which names the data set and the images' ids). The
     * training list may read its pictures lazily: they are asked for one batch at a time.
     */
    public void prepare(List<Picture> truth, List<Picture> training, FeatureCache cache, String imagesKey) throws IOException {
        for (Group g : groups) {
            Map<String, float[][]> t = cached(g, "test", truth, cache, imagesKey);
            Map<String, float[][]> tr = training.isEmpty() ? Map.of() : cached(g, "train", training, cache, imagesKey);
            for (NetMetric m : g.metrics()) {
                float[][] trainVectors = tr.get(m.node());
                if (trainVectors != null && (long) trainVectors.length * trainVectors[0].length > TRAINING_VALUES_LIMIT) {
                    notes.add(String.format(Locale.ROOT, "memorised_%s: skipped, %d training images × %d values exceed the %d-value limit",
                            m.key(), trainVectors.length, trainVectors[0].length, TRAINING_VALUES_LIMIT));
                    trainVectors = null;
                }
                correlators.put(m.key(), new Correlator(t.get(m.node()), trainVectors));
            }
        }
    }

    private Map<String, float[][]> cached(Group g, String split, List<Picture> pictures, FeatureCache cache, String imagesKey) throws IOException {
        Map<String, String> keys = new LinkedHashMap<>();
        for (String node : g.nodes()) {
            keys.put(node, String.join("\n", "net=" + netIds.get(g.family()), "node=" + node, "input=" + g.input().describe(),
                    "images=" + imagesKey, "split=" + split, "count=" + pictures.size()));
        }
        Map<String, float[][]> out = new LinkedHashMap<>();
        for (var k : keys.entrySet()) {
            float[][] f = cache.get(k.getValue());
            if (f == null || f.length != pictures.size()) {
                out.clear();
                break;
            }
            out.put(k.getKey(), f);
        }
        if (!out.isEmpty()) return out;
        long t0 = System.nanoTime();
        out = extract(g, pictures);
        log.accept(String.format(Locale.ROOT, "evaluate: %s features of %d %s images at %s in %.1f s (cached)", g.family(), pictures.size(), split,
                g.input().describe(), (System.nanoTime() - t0) / 1e9));
        for (var k : keys.entrySet()) cache.put(k.getValue(), out.get(k.getKey()));
        return out;
    }

    /** Every metric's correlations for one set of reconstructions {@code samples[j][s]}, after {@link #prepare}. */
    public Map<String, NetCorrelations> correlate(Picture[][] samples) {
        if (correlators.isEmpty() && !groups.isEmpty()) throw new IllegalStateException("NetSuite.prepare was not called");
        int n = samples.length, k = samples[0].length;
        List<Picture> flat = new ArrayList<>();
        for (Picture[] s : samples) {
            if (s.length != k) throw new IllegalArgumentException("images have different sample counts");
            flat.addAll(Arrays.asList(s));
        }
        Map<String, NetCorrelations> out = new LinkedHashMap<>();
        for (Group g : groups) {
            Map<String, Correlator.Builder> builders = new LinkedHashMap<>();
            for (NetMetric m : g.metrics()) builders.put(m.key(), correlators.get(m.key()).builder(k));
            forEachBatch(g, flat, (index, features) -> {
                for (NetMetric m : g.metrics()) builders.get(m.key()).add(index / k, index % k, features.get(m.node()));
            });
            for (var b : builders.entrySet()) out.put(b.getKey(), b.getValue().build());
        }
        return out;
    }

    /** Flattened features of each of the group's nodes, [picture][value]. */
    private Map<String, float[][]> extract(Group g, List<Picture> pictures) {
        Map<String, float[][]> out = new LinkedHashMap<>();
        for (String node : g.nodes()) out.put(node, new float[pictures.size()][]);
        forEachBatch(g, pictures, (index, features) -> features.forEach((node, f) -> out.get(node)[index] = f));
        return out;
    }

    @FunctionalInterface
    private interface FeatureSink {
        void accept(int index, Map<String, float[]> features);
    }

    /** Runs the group's network over the pictures in batches; the sink gets each picture's flattened node outputs. */
    private void forEachBatch(Group g, List<Picture> pictures, FeatureSink sink) {
        VisionNet net = nets.get(g.family());
        List<String> nodes = g.nodes();
        for (int b0 = 0; b0 < pictures.size(); b0 += BATCH) {
            int b1 = Math.min(pictures.size(), b0 + BATCH);
            Tensor x = g.input().batch(pictures.subList(b0, b1));
            Map<String, Tensor> out = net.features(x, nodes);
            Map<String, float[][]> perNode = new LinkedHashMap<>();
            for (String node : nodes) {
                Tensor t = out.get(node);
                if (t == null) throw new IllegalStateException(net.arch() + " returned no " + node);
                float[] all = backend.download(t).toFloatArray();
                if (t.isOnDevice()) t.close();
                int per = all.length / (b1 - b0);
                float[][] split = new float[b1 - b0][];
                for (int i = 0; i < split.length; i++) split[i] = Arrays.copyOfRange(all, i * per, (i + 1) * per);
                perNode.put(node, split);
            }
            for (int i = b0; i < b1; i++) {
                Map<String, float[]> f = new LinkedHashMap<>();
                for (String node : nodes) f.put(node, perNode.get(node)[i - b0]);
                sink.accept(i, f);
            }
        }
    }

    /** Raw flattened features of one metric's node for some pictures (for checks and benchmarks). */
    public float[][] features(NetMetric m, List<Picture> pictures) {
        for (Group g : groups) {
            if (g.metrics().contains(m)) {
                Group one = new Group(g.family(), g.input(), List.of(m));
                return extract(one, pictures).get(m.node());
            }
        }
        throw new IllegalArgumentException("no network for " + m.key() + " in this suite");
    }

    @Override
    public void close() {
        for (VisionNet n : nets.values()) n.close();
    }
}
