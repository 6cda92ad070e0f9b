package brain2img.sd;

import brain2img.io.FormatException;
import brain2img.io.Json;
import brain2img.io.WeightFile;
import brain2img.tensor.Tensor;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Stable Diffusion v1.x checkpoint in either layout:
 * <ul>
 *   <li>a diffusers folder ({@code unet/}, {@code vae/}, {@code text_encoder/}, {@code tokenizer/}, {@code scheduler/}),</li>
 *   <li>an original single {@code .safetensors} file ({@code model.diffusion_model.*}, {@code first_stage_model.*},
 *       {@code cond_stage_model.transformer.*}); hyper-parameters then come from {@code --config DIR}
 *       (a diffusers folder) or the built-in SD v1 defaults.</li>
 * </ul>
 * Components are exposed under diffusers names; weights stay memory-mapped.
 */
public final class SdSource implements AutoCloseable {
    public enum Layout { DIFFUSERS, SINGLE_FILE }

    public static final String UNET = "unet", VAE = "vae", TEXT_ENCODER = "text_encoder", SCHEDULER = "scheduler";

    /** Key prefixes of each component in an original single-file checkpoint. */
    private static final Map<String, String> SINGLE_FILE_PREFIX = Map.of(
            UNET, "model.diffusion_model.",
            VAE, "first_stage_model.",
            TEXT_ENCODER, "cond_stage_model.transformer.");

    private static final String DEFAULTS = "/brain2img/sd/v1-defaults/";

    private final Path root;
    private final Path configDir;
    private final Layout layout;
    private final List<WeightFile> opened = new ArrayList<>();
    private WeightFile singleFile;

    private SdSource(Path root, Path configDir, Layout layout) {
        this.root = root;
        this.configDir = configDir;
        this.layout = layout;
    }

    /** Opens W (a diffusers folder or a single .safetensors file); configDir may be null. */
    public static SdSource open(Path weights, Path configDir) {
        if (!Files.exists(weights)) throw new FormatException(weights + ": no such weights file or folder");
        if (configDir != null && !Files.isDirectory(configDir)) {
            throw new FormatException(configDir + ": --config must be a diffusers folder");
        }
        Layout layout = Files.isDirectory(weights) ? Layout.DIFFUSERS : Layout.SINGLE_FILE;
        return new SdSource(weights, configDir, layout);
    }

    public Layout layout() { return layout; }

    public Path root() { return root; }

    /**
     * The tensors of a component (UNET, VAE, TEXT_ENCODER) under diffusers names. {@code mapping} translates
     * original single-file keys; it is not used for diffusers folders.
     */
    public synchronized TensorSource component(String name, KeyMapping mapping) {
        if (layout == Layout.DIFFUSERS) {
            Path dir = root.resolve(name);
            if (!Files.isDirectory(dir)) throw new FormatException(root + ": no '" + name + "/' folder (not a diffusers layout?)");
            WeightFile w = WeightFile.open(dir);
            opened.add(w);
            return new Direct(w);
        }
        if (singleFile == null) {
            singleFile = WeightFile.open(root);
            opened.add(singleFile);
        }
        return new Mapped(singleFile, SINGLE_FILE_PREFIX.get(name), mapping);
    }

    /**
     * A component's config: {@code W/name/config.json} (scheduler: {@code scheduler_config.json}), else the same
     * file under --config, else the built-in SD v1.4 defaults.
     */
    public JsonNode config(String component) {
        String file = component.equals(SCHEDULER) ? "scheduler_config.json" : "config.json";
        if (layout == Layout.DIFFUSERS && Files.isRegularFile(root.resolve(component).resolve(file))) {
            return Json.read(root.resolve(component).resolve(file));
        }
        if (configDir != null && Files.isRegularFile(configDir.resolve(component).resolve(file))) {
            return Json.read(configDir.resolve(component).resolve(file));
        }
        return defaultConfig(component, file);
    }

    public static JsonNode defaultConfig(String component, String file) {
        String res = DEFAULTS + component + "/" + file;
        try (InputStream in = SdSource.class.getResourceAsStream(res)) {
            if (in == null) throw new FormatException("no built-in default config for '" + component + "'");
            return Json.MAPPER.readTree(in);
        } catch (IOException e) {
            throw new FormatException("built-in config " + res + ": " + e.getMessage(), e);
        }
    }

    /** The tokenizer folder (vocab.json + merges.txt): W/tokenizer, else --config/tokenizer. */
    public Path tokenizerDir() {
        List<Path> candidates = new ArrayList<>();
        if (layout == Layout.DIFFUSERS) candidates.add(root.resolve("tokenizer"));
        if (configDir != null) candidates.add(configDir.resolve("tokenizer"));
        for (Path p : candidates) if (Files.isRegularFile(p.resolve("vocab.json"))) return p;
        throw new FormatException(root + ": no tokenizer/vocab.json found"
                + (layout == Layout.SINGLE_FILE ? " (a single-file checkpoint needs --config DIR with a tokenizer/ folder)" : ""));
    }

    @Override
    public void close() {
        opened.forEach(WeightFile::close);
        opened.clear();
    }

    /** A diffusers component file: names as stored. */
    private record Direct(WeightFile w) implements TensorSource {
        public String describe() { return w.source().toString(); }
        public Set<String> names() { return Set.copyOf(w.names()); }
        public boolean contains(String name) { return w.contains(name); }
        public Tensor get(String name) { return w.getF32(name); }
    }

    /** A component inside a single file: keys under the prefix, renamed by the component's mapping table. */
    private static final class Mapped implements TensorSource {
        private final WeightFile w;
        private final String prefix;
        private final KeyMapping mapping;
        private final Map<String, String> diffusersToOriginal = new LinkedHashMap<>();

        Mapped(WeightFile w, String prefix, KeyMapping mapping) {
            this.w = w;
            this.prefix = prefix;
            this.mapping = mapping;
            for (String key : w.names()) {
                if (!key.startsWith(prefix)) continue;
                String d = mapping.toDiffusers(key.substring(prefix.length()));
                if (d != null) diffusersToOriginal.put(d, key);
            }
            if (diffusersToOriginal.isEmpty()) {
                throw new FormatException(w.source() + ": no tensors under '" + prefix + "' (not an SD v1 single-file checkpoint?)");
            }
        }

        public String describe() { return w.source() + " [" + prefix + "*]"; }
        public Set<String> names() { return Collections.unmodifiableSet(diffusersToOriginal.keySet()); }
        public boolean contains(String name) { return diffusersToOriginal.containsKey(name); }

        public Tensor get(String name) {
            String key = diffusersToOriginal.get(name);
            if (key == null) throw new FormatException(describe() + ": missing tensor for '" + name + "'");
            Tensor t = w.getF32(key);
            long[] view = mapping.viewShape(key.substring(prefix.length()), t.shape());
            return java.util.Arrays.equals(view, t.shape()) ? t : t.reshape(view);
        }
    }
}
