package brain2img.vision;

import brain2img.backend.Backend;
import brain2img.eval.Stats;
import brain2img.io.Json;
import brain2img.tensor.Tensor;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * {@code brain2img bench nets}: forward throughput of each CNN at its metric-suite input size, and VGG19's
 * forward + input gradient over Shen et al.'s 19 layers at 224², on random full-size weights (shapes from
 * tools/vision_shapes.py: He-scaled Gaussian weights, BatchNorm with unit variance). FLOPs are those the
 * convolutions and linear layers issue (2 per multiply-add), counted as they run.
 */
public final class NetsBench {
    /** The side each network is run at in the metric suite (MindEye2's resizes; VGG19 and ResNet at 224). */
    public static final Map<String, Integer> METRIC_SIZE = Map.of("alexnet", 256, "inception_v3", 342,
            "efficientnet_b1", 255, "resnet50", 224, "vgg19", 224, "vgg19-caffe", 224);

    public record Options(List<String> archs, int batch, int warmup, int reps, Integer size, boolean gradient) {}

    private NetsBench() {}

    public static void run(Backend be, Options o, PrintStream out) {
        for (String arch : o.archs()) {
            int side = o.size() != null ? o.size() : METRIC_SIZE.getOrDefault(arch, 224);
            try (CnnNet net = randomNet(arch, be, 42)) {
                Tensor x = randomInput(o.batch(), side, 7);
                String last = net.nodes().get(net.nodes().size() - 1);
                Timing f = time(o.warmup(), o.reps(), () -> {
                    net.features(x, List.of(last));
                    return net.lastFlops();
                });
                out.printf(Locale.ROOT, "%-16s %dx%d batch %d forward: %8.1f ms (median %.1f ms)  %7.2f images/s  %6.2f GFLOP  %6.2f GFLOP/s%n",
                        arch, side, side, o.batch(), f.seconds * 1e3, f.median * 1e3, o.batch() / f.seconds, f.flops / 1e9,
                        f.flops / 1e9 / f.seconds);
                if (o.gradient() && arch.startsWith("vgg19")) {
                    Map<String, Tensor> targets = shenTargets(net, x);
                    Timing g = time(o.warmup(), o.reps(), () -> {
                        net.lossGradient(x, targets, null);
                        return net.lastFlops();
                    });
                    out.printf(Locale.ROOT, "%-16s %dx%d batch %d forward+input gradient (%d layers): %8.1f ms (median %.1f ms)  %6.2f GFLOP  %6.2f GFLOP/s%n",
                            arch, side, side, o.batch(), targets.size(), g.seconds * 1e3, g.median * 1e3, g.flops / 1e9,
                            g.flops / 1e9 / g.seconds);
                }
            }
        }
    }

    /** Zero targets on every conv and fc node before its ReLU (Shen's 19 layers), shaped by one forward pass. */
    private static Map<String, Tensor> shenTargets(CnnNet net, Tensor x) {
        List<String> nodes = net.nodes().stream().filter(n -> isWeightNode(net, n)).toList();
        Map<String, Tensor> f = net.features(x, nodes);
        Map<String, Tensor> t = new LinkedHashMap<>();
        f.forEach((k, v) -> t.put(k, Tensor.zeros(v.shape())));
        return t;
    }

    /** The nodes that are a conv or linear layer's own output (conv1_1 … fc8; features.N, classifier.0/3/6). */
    private static boolean isWeightNode(CnnNet net, String n) {
        return net.params.has(n + ".weight");
    }

    /** Mean and median seconds per run (GFLOP/s from the mean), and the FLOPs of one run. */
    private record Timing(double seconds, double median, long flops) {}

    private interface Work {
        long run();
    }

    /**
     * warmup untimed runs, then the mean wall time of reps runs. A full collection first moves the just-built random
     * weights (hundreds of MB on the heap, unlike mapped checkpoint files) out of the young generation, so no run
     * pays for copying them. The warm-up then lets the JIT compile and the heap grow to the size a long optimisation
     * settles at: until it has, each run's activations land on freshly committed memory and collections copy them,
     * which a 200-iteration reconstruction pays only in its first iterations. The timed runs' own collections count
     * in the mean; the median shows a typical run without the occasional collection or scheduler hiccup.
     */
    private static Timing time(int warmup, int reps, Work w) {
        System.gc();
        for (int i = 0; i < warmup; i++) w.run();
        long flops = 0;
        double[] each = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            flops = w.run();
            each[i] = (System.nanoTime() - t0) / 1e9;
        }
        return new Timing(Stats.mean(each), Stats.median(each), flops);
    }

    static Tensor randomInput(int batch, int side, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] d = new float[batch * 3 * side * side];
        for (int i = 0; i < d.length; i++) d[i] = (float) gaussian(r);
        return Tensor.of(d, batch, 3, side, side);
    }

    /** A full-size network of arch on random weights with the checkpoint's names and shapes. */
    static CnnNet randomNet(String arch, Backend be, long seed) {
        Map<String, Tensor> tensors = randomWeights(arch, seed);
        return (CnnNet) VisionNets.cnnBuilder(arch).build(Weights.of(tensors, "random " + arch), null, be, null);
    }

    static Map<String, Tensor> randomWeights(String arch, long seed) {
        JsonNode shapes;
        try (InputStream in = NetsBench.class.getResourceAsStream("shapes/" + arch + ".json")) {
            if (in == null) throw new IllegalArgumentException("no weight shapes for '" + arch + "'");
            shapes = Json.MAPPER.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, Tensor> out = new LinkedHashMap<>();
        shapes.fields().forEachRemaining(e -> {
            long[] s = new long[e.getValue().size()];
            for (int i = 0; i < s.length; i++) s[i] = e.getValue().get(i).asLong();
            float[] d = new float[Math.toIntExact(Tensor.numel(s))];
            String k = e.getKey();
            if (k.endsWith("running_var")) java.util.Arrays.fill(d, 1f);
            else if (k.endsWith(".weight") && s.length == 1) java.util.Arrays.fill(d, 1f);    // BatchNorm gamma
            else if (k.endsWith(".weight")) {
                double std = Math.sqrt(2.0 / (Tensor.numel(s) / s[0]));                      // He: fan-in
                for (int i = 0; i < d.length; i++) d[i] = (float) (std * gaussian(r));
            }
            out.put(k, Tensor.of(d, s));
        });
        return out;
    }

    private static double gaussian(SplittableRandom r) {
        double u = r.nextDouble(), v = r.nextDouble();
        return Math.sqrt(-2 * Math.log1p(-u)) * Math.cos(2 * Math.PI * v);
    }
}
