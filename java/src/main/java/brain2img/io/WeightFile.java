package brain2img.io;

import brain2img.io.torch.TorchFile;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One logical set of named tensors stored in a single file or sharded over several (a {@code *.index.json} with a
 * {@code weight_map} from tensor name to shard file). A file is a safetensors file or a PyTorch checkpoint
 * ({@code .pth}, {@code .pt}, {@code .pth.tar}, {@code .bin}, {@code .ckpt}, zip or legacy format), told apart by
 * its content; a checkpoint's tensors are its state dict as {@link TorchFile} selects it.
 */
public final class WeightFile implements AutoCloseable {
    /** File name endings of PyTorch checkpoints, for finding them in folders. */
    public static final List<String> TORCH_SUFFIXES = List.of(".pth", ".pt", ".pth.tar", ".bin", ".ckpt");

    private final Path source;
    private final List<TensorFile> files;
    private final Map<String, TensorFile> byName = new LinkedHashMap<>();

    private WeightFile(Path source, List<TensorFile> files) {
        this.source = source;
        this.files = files;
        for (TensorFile f : files) for (String n : f.names()) byName.putIfAbsent(n, f);
    }

    /**
     * Opens a .safetensors file, a PyTorch checkpoint, a sharded index ({@code *.index.json}), or a folder holding
     * exactly one of those (safetensors preferred).
     */
    public static WeightFile open(Path path) {
        if (Files.isDirectory(path)) return open(findIn(path));
        String name = path.getFileName().toString();
        if (name.endsWith(".index.json")) return openSharded(path);
        return new WeightFile(path, List.of(openFile(path)));
    }

    /** A PyTorch checkpoint with its tensors taken from the dict at {@code dictPath} (see {@link TorchFile#open(Path, String)}). */
    public static WeightFile openTorch(Path path, String dictPath) {
        return new WeightFile(path, List.of(TorchFile.open(path, dictPath)));
    }

    /** One file, by content: a zip or pickle is a PyTorch checkpoint, anything else is read as safetensors. */
    private static TensorFile openFile(Path path) {
        return TorchFile.detect(path) != null ? TorchFile.open(path) : SafeTensors.open(path);
    }

    public static boolean isTorchName(String fileName) {
        String n = fileName.toLowerCase(Locale.ROOT);
        return TORCH_SUFFIXES.stream().anyMatch(n::endsWith);
    }

    private static Path findIn(Path dir) {
        try (var s = Files.list(dir)) {
            List<Path> idx = new ArrayList<>(), single = new ArrayList<>(), torch = new ArrayList<>();
            s.sorted().forEach(p -> {
                String n = p.getFileName().toString();
                if (n.endsWith(".safetensors.index.json")) idx.add(p);
                else if (n.endsWith(".safetensors")) single.add(p);
                else if (isTorchName(n)) torch.add(p);
            });
            if (idx.size() == 1) return idx.get(0);
            if (single.size() == 1) return single.get(0);
            if (idx.isEmpty() && single.isEmpty() && torch.size() == 1) return torch.get(0);
            throw new FormatException(dir + ": expected one .safetensors file (or one .safetensors.index.json, or one"
                    + " PyTorch checkpoint), found " + (idx.size() + single.size()) + " safetensors and " + torch.size() + " checkpoints");
        } catch (java.io.IOException e) {
            throw new FormatException(dir + ": cannot list (" + e.getMessage() + ")", e);
        }
    }

    private static WeightFile openSharded(Path index) {
        JsonNode map = Json.read(index).path("weight_map");
        if (!map.isObject()) throw new FormatException(index + ": no 'weight_map' object");
        Map<String, TensorFile> shards = new LinkedHashMap<>();
        List<TensorFile> opened = new ArrayList<>();
        try {
            map.fields().forEachRemaining(e -> shards.computeIfAbsent(e.getValue().asText(), f -> {
                TensorFile s = openFile(index.resolveSibling(f));
                opened.add(s);
                return s;
            }));
            WeightFile w = new WeightFile(index, opened);
            map.fields().forEachRemaining(e -> {
                if (!shards.get(e.getValue().asText()).contains(e.getKey())) {
                    throw new FormatException(index + ": '" + e.getKey() + "' is mapped to " + e.getValue().asText()
                            + " but that shard does not hold it");
                }
            });
            return w;
        } catch (RuntimeException e) {
            opened.forEach(TensorFile::close);
            throw e;
        }
    }

    public Path source() { return source; }

    public List<TensorFile> files() { return files; }

    public List<String> names() { return List.copyOf(byName.keySet()); }

    public boolean contains(String name) { return byName.containsKey(name); }

    public DType dtype(String name) { return fileOf(name).dtype(name); }

    public long[] shape(String name) { return fileOf(name).shape(name); }

    /**
     * Name, dtype and shape. For safetensors the offsets are those of the data section; a PyTorch tensor has no
     * such place of its own (it is a view of a storage), so its entry spans [0, its byte size).
     */
    public SafeTensors.Entry entry(String name) {
        TensorFile f = fileOf(name);
        if (f instanceof SafeTensors st) return st.entry(name);
        DType d = f.dtype(name);
        long[] shape = f.shape(name);
        return new SafeTensors.Entry(name, d, shape, 0, Tensor.numel(shape) * d.bytes);
    }

    /** Stored dtype, zero-copy where the file's layout allows. */
    public Tensor get(String name) { return fileOf(name).get(name); }

    /** As f32 (zero-copy for f32 files). */
    public Tensor getF32(String name) { return fileOf(name).getF32(name); }

    private TensorFile fileOf(String name) {
        TensorFile f = byName.get(name);
        if (f == null) throw new FormatException(source + ": missing tensor '" + name + "'");
        return f;
    }

    @Override
    public void close() {
        files.forEach(TensorFile::close);
    }
}
