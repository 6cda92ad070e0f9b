package brain2img.bench;

import brain2img.backend.Backend;
import brain2img.sd.SdSource;
import brain2img.sd.TensorSource;
import brain2img.sd.UNet;
import brain2img.sd.UNetConfig;
import brain2img.sd.UNetFlops;
import brain2img.tensor.Tensor;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * U-Nets with random weights for timing, built from the built-in SD v1 config (no download):
 * {@code v1} is SD v1.4-sized (860M parameters, 3.4 GB as f32); {@code tiny} is the width of the sd-tiny
 * goldens (channels 32/64/64/64, context width 32).
 */
final class RandomUNet {
    private RandomUNet() {}

    static UNetConfig config(String model) {
        ObjectNode c = (ObjectNode) SdSource.defaultConfig(SdSource.UNET, "config.json").deepCopy();
        switch (model) {
            case "v1" -> { }
            case "tiny" -> {
                c.putArray("block_out_channels").add(32).add(64).add(64).add(64);
                c.put("cross_attention_dim", 32);
            }
            default -> throw new IllegalArgumentException("model must be v1 or tiny, got " + model);
        }
        return UNetConfig.parse(c, model);
    }

    /** A U-Net whose weights are uniform in ±1/√fan_in (norm scales 1, biases small), so activations stay O(1). */
    static UNet build(UNetConfig cfg, Backend be, long seed) {
        Map<String, long[]> shapes = UNet.parameterShapes(cfg);
        Map<String, Tensor> tensors = new ConcurrentHashMap<>();
        long[] seeds = new SplittableRandom(seed).longs(shapes.size()).toArray();
        var names = shapes.keySet().toArray(String[]::new);
        java.util.stream.IntStream.range(0, names.length).parallel()
                .forEach(i -> tensors.put(names[i], random(names[i], shapes.get(names[i]), seeds[i])));
        return UNet.build(cfg, new InMemory(tensors), be);
    }

    private static Tensor random(String name, long[] shape, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] d = new float[Math.toIntExact(Tensor.numel(shape))];
        boolean normScale = shape.length == 1 && name.endsWith(".weight");
        double bound = shape.length == 1 ? 0.02 : 1.0 / Math.sqrt((double) d.length / shape[0]);
        for (int i = 0; i < d.length; i++) d[i] = (float) ((normScale ? 1 : 0) + r.nextDouble(-bound, bound));
        return Tensor.of(d, shape);
    }

    /** FLOPs of one forward pass at h×w with a 77-token context, for the benchmark's log. */
    static String flopLine(String model, UNetConfig cfg, int size) {
        UNetFlops.Count c = UNetFlops.of(cfg, size, size, 77);
        return String.format("%n[%s U-Net, %dx%d latent, batch 1] %.3f GFLOP per step (%.1f%% in attention products)",
                model, size, size, c.total() / 1e9, 100.0 * c.attention() / c.total());
    }

    private record InMemory(Map<String, Tensor> tensors) implements TensorSource {
        public String describe() { return "random weights"; }
        public Set<String> names() { return tensors.keySet(); }
        public boolean contains(String name) { return tensors.containsKey(name); }
        public Tensor get(String name) { return tensors.get(name); }
    }
}
