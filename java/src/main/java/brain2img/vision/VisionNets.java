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
 * size. The CNNs here register themselves below; CLIP's vision tower ({@code clip-vit}, package
 * {@code brain2img.vision.ClipVision}) is added with one {@link #register} line in the static block.
 */
public final class VisionNets {

    /** Builds a network from its weight file (.safetensors, or whatever {@link WeightFile#open} reads). */
    @FunctionalInterface
    public interface Opener {
        VisionNet open(Path weights, Path config, Backend backend, PrintStream notes);
    }

    private record Entry(Opener opener, java.util.function.Supplier<List<String>> nodes) {}

    private static final Map<String, Entry> REGISTRY = new LinkedHashMap<>();

    static {
        register("alexnet", cnn((f, c, be, n) -> new AlexNet(f, be)), () -> new AlexNet(null, cpu()).nodes());
        register("vgg19", cnn((f, c, be, n) -> Vgg19.torchvision(f, be)), () -> Vgg19.torchvision(null, cpu()).nodes());
        register("vgg19-caffe", cnn((f, c, be, n) -> Vgg19.caffe(f, be)), () -> Vgg19.caffe(null, cpu()).nodes());
        register("resnet50", cnn((f, c, be, n) -> new ResNet(f, be, n)), () -> new ResNet(null, cpu(), null).nodes());
        register("inception_v3", cnn((f, c, be, n) -> new InceptionV3(f, c, be)), () -> new InceptionV3(null, null, cpu()).nodes());
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
        VisionNet build(WeightFile file, Path config, Backend be, PrintStream notes);
    }

    static Opener cnn(CnnBuilder b) {
        return (weights, config, be, notes) -> {
            WeightFile f = WeightFile.open(weights);
            try {
                return b.build(f, config, be, notes);
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
