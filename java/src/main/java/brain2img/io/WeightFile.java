package brain2img.io;

import brain2img.tensor.Tensor;
import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One logical set of named tensors stored in a single safetensors file or sharded over several
 * (a {@code *.safetensors.index.json} with a {@code weight_map} from tensor name to shard file).
 */
public final class WeightFile implements AutoCloseable {
    private final Path source;
    private final List<SafeTensors> files;
    private final Map<String, SafeTensors> byName = new LinkedHashMap<>();

    private WeightFile(Path source, List<SafeTensors> files) {
        this.source = source;
        this.files = files;
        for (SafeTensors f : files) for (String n : f.names()) byName.putIfAbsent(n, f);
    }

    /** Opens a .safetensors file, a .safetensors.index.json, or a folder holding exactly one of those. */
    public static WeightFile open(Path path) {
        if (Files.isDirectory(path)) return open(findIn(path));
        String name = path.getFileName().toString();
        if (name.endsWith(".index.json")) return openSharded(path);
        return new WeightFile(path, List.of(SafeTensors.open(path)));
    }

    private static Path findIn(Path dir) {
        try (var s = Files.list(dir)) {
            List<Path> idx = new ArrayList<>(), single = new ArrayList<>();
            s.sorted().forEach(p -> {
                String n = p.getFileName().toString();
                if (n.endsWith(".safetensors.index.json")) idx.add(p);
                else if (n.endsWith(".safetensors")) single.add(p);
            });
            if (idx.size() == 1) return idx.get(0);
            if (single.size() == 1) return single.get(0);
            throw new FormatException(dir + ": expected one .safetensors file (or one .safetensors.index.json), found "
                    + (idx.size() + single.size()));
        } catch (java.io.IOException e) {
            throw new FormatException(dir + ": cannot list (" + e.getMessage() + ")", e);
        }
    }

    private static WeightFile openSharded(Path index) {
        JsonNode map = Json.read(index).path("weight_map");
        if (!map.isObject()) throw new FormatException(index + ": no 'weight_map' object");
        Map<String, SafeTensors> shards = new LinkedHashMap<>();
        List<SafeTensors> opened = new ArrayList<>();
        try {
            map.fields().forEachRemaining(e -> shards.computeIfAbsent(e.getValue().asText(), f -> {
                SafeTensors s = SafeTensors.open(index.resolveSibling(f));
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
            opened.forEach(SafeTensors::close);
            throw e;
        }
    }

    public Path source() { return source; }

    public List<SafeTensors> files() { return files; }

    public List<String> names() { return List.copyOf(byName.keySet()); }

    public boolean contains(String name) { return byName.containsKey(name); }

    public SafeTensors.Entry entry(String name) { return fileOf(name).entry(name); }

    /** Stored dtype, zero-copy. */
    public Tensor get(String name) { return fileOf(name).get(name); }

    /** As f32 (zero-copy for f32 files). */
    public Tensor getF32(String name) { return fileOf(name).getF32(name); }

    private SafeTensors fileOf(String name) {
        SafeTensors f = byName.get(name);
        if (f == null) throw new FormatException(source + ": missing tensor '" + name + "'");
        return f;
    }

    @Override
    public void close() {
        files.forEach(SafeTensors::close);
    }
}
