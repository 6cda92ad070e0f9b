package brain2img.dir;

import brain2img.io.FormatException;
import brain2img.io.Npy;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Features stored as {@code DIR/<layer>.npy}, one f32 array (images, …) per layer, memory-mapped: a block
 * read touches only its columns' pages, so the heap holds one block at a time whatever the layer's size.
 */
public final class StoredFeatures implements FeatureSource {
    private final Map<String, Tensor> layers = new LinkedHashMap<>();
    private final int images;

    /** Opens the given layers of a folder; every file must be f32 with the same number of images. */
    public StoredFeatures(Path dir, List<String> names) {
        int n = -1;
        for (String name : names) {
            Path file = dir.resolve(name + ".npy");
            if (!Files.isRegularFile(file)) throw new FormatException(file + ": no such file (features of layer " + name + ")");
            Tensor t = Npy.map(file);
            if (t.dtype() != DType.F32 || t.rank() < 2) {
                throw new FormatException(file + ": expected f32 (images, …) features, got " + t.dtype().lower() + " " + t.shapeString());
            }
            if (n >= 0 && t.dim(0) != n) throw new FormatException(file + ": " + t.dim(0) + " images, other layers have " + n);
            n = t.dimInt(0);
            layers.put(name, t);
        }
        if (n < 0) throw new IllegalArgumentException(dir + ": no layers given");
        this.images = n;
    }

    @Override
    public List<String> layers() {
        return List.copyOf(layers.keySet());
    }

    @Override
    public long[] shape(String layer) {
        long[] s = tensor(layer).shape();
        return Arrays.copyOfRange(s, 1, s.length);
    }

    @Override
    public int images() {
        return images;
    }

    @Override
    public float[] block(String layer, long u0, long u1) {
        Tensor t = tensor(layer);
        long units = units(layer);
        if (u0 < 0 || u1 > units || u0 > u1) throw new IllegalArgumentException(layer + ": units [" + u0 + ", " + u1 + ") outside 0.." + units);
        int w = Math.toIntExact(u1 - u0);
        float[] out = new float[Math.multiplyExact(images, w)];
        MemorySegment seg = t.segment();
        for (int r = 0; r < images; r++) MemorySegment.copy(seg, Tensor.F32, ((long) r * units + u0) * 4, out, r * w, w);
        return out;
    }

    /** The whole layer as (images, shape…) — for small layers and tests. */
    public Tensor tensor(String layer) {
        Tensor t = layers.get(layer);
        if (t == null) throw new IllegalArgumentException("no features for layer '" + layer + "' (have " + layers.keySet() + ")");
        return t;
    }
}
