package brain2img.vision;

import brain2img.io.Npy;
import brain2img.tensor.Tensor;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;

/** The reference outputs written by {@code tools/vision_goldens.py} (test resources under brain2img/vision). */
final class Goldens {
    private Goldens() {}

    static Path dir(String arch) {
        try {
            return Path.of(Goldens.class.getResource(arch).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Path weights(String arch) {
        return dir(arch).resolve("weights.safetensors");
    }

    static Tensor x(String arch) {
        return Npy.read(dir(arch).resolve("x.npy"));
    }

    static Map<String, Tensor> features(String arch) {
        return Npy.readNpz(dir(arch).resolve("features.npz"));
    }

    static Map<String, Tensor> grad(String arch) {
        return Npy.readNpz(dir(arch).resolve("grad.npz"));
    }
}
