package brain2img.sd;

import brain2img.backend.Backend;
import brain2img.tensor.Tensor;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;

/**
 * U-Nets and VAEs with random weights for timing, built from the built-in SD v1 configs (no download):
 * {@code v1} is SD v1.4-sized (U-Net 860M parameters, VAE 84M); {@code tiny} has the widths of the sd-tiny goldens
 * (U-Net channels 32/64/64/64 with context width 32; VAE 32/32/64/64 with one ResNet per level).
 * Weights are uniform in ±1/√fan_in, norm scales near 1 and biases small, so activations stay O(1).
 */
public final class RandomWeights {
    private RandomWeights() {}

    public static UNetConfig unetConfig(String model) {
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

    public static VaeConfig vaeConfig(String model) {
        ObjectNode c = (ObjectNode) SdSource.defaultConfig(SdSource.VAE, "config.json").deepCopy();
        switch (model) {
            case "v1" -> { }
            case "tiny" -> {
                c.putArray("block_out_channels").add(32).add(32).add(64).add(64);
                c.put("layers_per_block", 1);
            }
            default -> throw new IllegalArgumentException("model must be v1 or tiny, got " + model);
        }
        return VaeConfig.from(c);
    }

    /** A U-Net of {@code cfg} with random weights drawn in parallel (one seed per tensor, so the result is reproducible). */
    public static UNet unet(UNetConfig cfg, Backend be, long seed) {
        Map<String, long[]> shapes = UNet.parameterShapes(cfg);
        Map<String, Tensor> tensors = new ConcurrentHashMap<>();
        long[] seeds = new SplittableRandom(seed).longs(shapes.size()).toArray();
        String[] names = shapes.keySet().toArray(String[]::new);
        IntStream.range(0, names.length).parallel()
                .forEach(i -> tensors.put(names[i], random(names[i], shapes.get(names[i]), seeds[i])));
        return UNet.build(cfg, new InMemory(tensors), be);
    }

    /** A VAE of {@code cfg} with random weights: each tensor is drawn when the model asks for it by name and shape. */
    public static Vae vae(VaeConfig cfg, Backend be, long seed) {
        return Vae.load(new OnDemand(seed), cfg, be);
    }

    private static Tensor random(String name, long[] shape, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] d = new float[Math.toIntExact(Tensor.numel(shape))];
        boolean normScale = shape.length == 1 && name.endsWith(".weight");
        double bound = shape.length == 1 ? 0.02 : 1.0 / Math.sqrt((double) d.length / shape[0]);
        for (int i = 0; i < d.length; i++) d[i] = (float) ((normScale ? 1 : 0) + r.nextDouble(-bound, bound));
        return Tensor.of(d, shape);
    }

    private record InMemory(Map<String, Tensor> tensors) implements TensorSource {
        public String describe() { return "random weights"; }
        public Set<String> names() { return tensors.keySet(); }
        public boolean contains(String name) { return tensors.containsKey(name); }
        public Tensor get(String name) { return tensors.get(name); }
    }

    /** Random tensors of whatever shape the loader expects; the seed mixes in the key so each tensor differs. */
    private record OnDemand(long seed) implements TensorSource {
        public String describe() { return "random weights"; }
        public Set<String> names() { return Set.of(); }
        public boolean contains(String name) { return true; }

        public Tensor get(String name) {
            throw new UnsupportedOperationException("random weights need the expected shape of '" + name + "'");
        }

        @Override
        public Tensor get(String name, long... shape) {
            return random(name, shape, seed * 31 + name.hashCode());
        }
    }
}
