package brain2img.vision;

import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.io.WeightFile;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Opens a {@link VisionNet} by architecture name. Each architecture is one entry of a registry: its opener
 * (weights, optional config, backend, a stream for one-line notes) and a function listing its nodes at full
 * size. The CNNs and CLIP's vision tower ({@code clip-vit}, {@link ClipVision}: nodes listed for ViT-L/14, 24
 * layers; any other depth its weights give) register themselves below.
 */
public final class VisionNets {

    /** Builds a network from its weight file (.safetensors, or whatever {@link WeightFile#open} reads). */
    @FunctionalInterface
    public interface Opener {
        VisionNet open(Path weights, Path config, Backend backend, PrintStream notes);
    }

    private record Entry(Opener opener, java.util.function.Supplier<List<String>> nodes) {}

    private static final Map<String, Entry> REGISTRY = new LinkedHashMap<>();

    /** The CNNs by name, each built from its tensors (also used with random tensors by {@link NetsBench}). */
    private static final Map<String, CnnBuilder> CNNS = new LinkedHashMap<>();

    static {
        CNNS.put("alexnet", (w, c, be, n) -> new AlexNet(w, be));
        CNNS.put("vgg19", (w, c, be, n) -> Vgg19.torchvision(w, be));
        CNNS.put("vgg19-caffe", (w, c, be, n) -> Vgg19.caffe(w, be));
        CNNS.put("resnet50", (w, c, be, n) -> new ResNet(w, be, n));
        CNNS.put("inception_v3", (w, c, be, n) -> new InceptionV3(w, c, be));
        CNNS.put("efficientnet_b1", (w, c, be, n) -> new EfficientNet(w, be));
        CNNS.forEach((arch, b) -> register(arch, cnn(b), () -> b.build(Weights.none(), null, cpu(), null).nodes()));
        register(ClipVision.ARCH, (w, c, be, n) -> ClipVision.open(w, c, be), () -> clipNodes(24));
    }

    /** clip-vit's nodes for a tower of {@code layers} blocks, in forward order. */
    static List<String> clipNodes(int layers) {
        List<String> n = new ArrayList<>();
        for (int i = 0; i <= layers; i++) n.add("hidden_states." + i);
        n.add(ClipVision.IMAGE_EMBEDS);
        return n;
    }

    static CnnBuilder cnnBuilder(String arch) {
        CnnBuilder b = CNNS.get(arch);
        if (b == null) throw new IllegalArgumentException("unknown CNN '" + arch + "' (known: " + String.join(", ", CNNS.keySet()) + ")");
        return b;
    }

    private VisionNets() {}

    /** Adds (or replaces) an architecture; {@code nodes} lists its nodes at full size for {@code nets list}. */
    public static synchronized void register(String arch, Opener opener, java.util.function.Supplier<List<String>> nodes) {
        REGISTRY.put(arch, new Entry(opener, nodes));
    }

    /** The architecture names, in registration order. */
    public static synchronized List<String> archs() {
        return new ArrayList<>(REGISTRY.keySet());
    }

    /** The nodes of an architecture at its standard size, in forward order. */
    public static List<String> nodes(String arch) {
        return entry(arch).nodes().get();
    }

    /** Opens arch with its weights on the backend; notes (ignored tensors and the like) go to stderr. */
    public static VisionNet open(String arch, Path weights, Path config, Backend backend) {
        return open(arch, weights, config, backend, System.err);
    }

    public static VisionNet open(String arch, Path weights, Path config, Backend backend, PrintStream notes) {
        return entry(arch).opener().open(weights, config, backend, notes);
    }

    private static synchronized Entry entry(String arch) {
        Entry e = REGISTRY.get(arch);
        if (e == null) throw new IllegalArgumentException("unknown architecture '" + arch + "' (known: " + String.join(", ", REGISTRY.keySet()) + ")");
        return e;
    }

    /** A CNN's opener: the weight file is opened here and closed with the network (or at once if building fails). */
    interface CnnBuilder {
        VisionNet build(Weights weights, Path config, Backend be, PrintStream notes);
    }

    static Opener cnn(CnnBuilder b) {
        return (weights, config, be, notes) -> {
            WeightFile f = WeightFile.open(weights);
            try {
                return b.build(Weights.of(f), config, be, notes);
            } catch (RuntimeException e) {
                f.close();
                throw e;
            }
        };
    }

    private static Backend cpu() {
        return new CpuBackend();
    }
}
