package brain2img.eval;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The metric networks' weights in a {@code --nets DIR}, under documented names:
 * <pre>
 * alexnet.*                 torchvision AlexNet (IMAGENET1K_V1)
 * inception_v3.*            torchvision Inception v3 (IMAGENET1K_V1)
 * clip-vit-large-patch14/   HF CLIP ViT-L/14 (config.json + weights), or clip-vit-large-patch14.* as one file
 * efficientnet_b1.*         torchvision EfficientNet-B1 (IMAGENET1K_V2, as MindEye2)
 * swav_resnet50.*           SwAV ResNet-50 (800 epochs)
 * </pre>
 * where * is {@code safetensors}, {@code pth}, {@code pt} or {@code pth.tar}. Each family found is a
 * {@link Found}; each missing one a single note.
 */
public final class MetricNets {
    /** A network family: its name in metric definitions, the architecture the loader opens, and its file name stem. */
    public record Family(String name, String arch, String stem) {}

    public static final List<Family> FAMILIES = List.of(
            new Family("alexnet", "alexnet", "alexnet"),
            new Family("inception", "inception_v3", "inception_v3"),
            new Family("clip", "clip-vit", "clip-vit-large-patch14"),
            new Family("effnet", "efficientnet_b1", "efficientnet_b1"),
            new Family("swav", "resnet50", "swav_resnet50"));

    static final List<String> EXTENSIONS = List.of(".safetensors", ".pth", ".pt", ".pth.tar");

    /** A family's weights (a file, or a folder's weights file) and its config (null where the architecture fixes it). */
    public record Found(Family family, Path weights, Path config) {}

    /** What a folder holds: the families found, and one note per family missing. */
    public record Discovery(Path dir, List<Found> found, List<String> missing) {}

    private MetricNets() {}

    public static Discovery discover(Path dir) {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("--nets: not a folder: " + dir);
        List<Found> found = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (Family f : FAMILIES) {
            Optional<Found> hit = find(dir, f);
            if (hit.isPresent()) found.add(hit.get());
            else missing.add(f.name() + ": no " + f.stem() + (f.name().equals("clip") ? "/ or " + f.stem() : "") + ".* in " + dir);
        }
        return new Discovery(dir, List.copyOf(found), List.copyOf(missing));
    }

    private static Optional<Found> find(Path dir, Family f) {
        Path folder = dir.resolve(f.stem());
        if (Files.isDirectory(folder)) {
            Path config = folder.resolve("config.json");
            Optional<Path> w = weightsIn(folder, "model");
            if (w.isEmpty()) throw new IllegalArgumentException(folder + ": no model.safetensors (or model.* weights) in the folder");
            return Optional.of(new Found(f, w.get(), Files.isRegularFile(config) ? config : null));
        }
        return weightsIn(dir, f.stem()).map(p -> new Found(f, p, null));
    }

    /** stem + one of the extensions, safetensors preferred. */
    private static Optional<Path> weightsIn(Path dir, String stem) {
        try (var s = Files.list(dir)) {
            return s.filter(p -> Files.isRegularFile(p) && extensionRank(p.getFileName().toString(), stem) >= 0)
                    .min(Comparator.comparingInt(p -> extensionRank(p.getFileName().toString(), stem)));
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot list (" + e.getMessage() + ")", e);
        }
    }

    private static int extensionRank(String name, String stem) {
        for (int i = 0; i < EXTENSIONS.size(); i++) if (name.equals(stem + EXTENSIONS.get(i))) return i;
        return -1;
    }
}
