package brain2img.pipeline;

import brain2img.io.FormatException;
import brain2img.io.Json;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Everything a run depends on. Read from a {@code run.json} (any subset of the keys of {@link #toMap()})
 * over the defaults, then overridden by command-line options; the effective config is saved in
 * {@code RUN/run.json} so later stages can be called with {@code --out RUN} alone.
 *
 * @param targets     "pixels" (ridge to pixels at {@code pixelSize}); "z,c" (Stable Diffusion) needs SD weights
 * @param pixelSize   side of the pixel targets; 0 = the stimulus side, capped at 32
 * @param roi         ROI whose voxels the decoder reads; null = "early" where the data set has it, else all voxels
 * @param pixelSpace  longer-side cap of the pixel space used for two-way identification and memorisation
 * @param sdSize      Stable Diffusion image side for z and sampling (Takagi: 320 → z of 4×40×40), a multiple of 8
 * @param sdSteps     DDIM steps (img2img runs the last strength·steps of them); guidance: classifier-free scale
 * @param nets        folder of the metric networks' weights (see {@code brain2img.eval.MetricNets}); null = pixel metrics only
 * @param method      which method's stages run: method 1 ({@code takagi}: ridge to {@code targets}) or Shen et al.'s
 */
public record RunConfig(Path data, Path out, String targets, Path weights, int samples, long seed, int pixelSize,
                        String roi, double[] alphas, int folds, int bootstrap, int permutations, int pixelSpace,
                        int sdSize, int sdSteps, double guidance, double strength, Path nets, Method method) {

    /**
     * The method and, for {@code shen} (Shen et al. 2019, package {@code brain2img.dir}; {@code weights} are then the
     * VGG19's), its settings.
     *
     * @param layers     VGG19 nodes decoded and matched; null = Shen et al.'s 19 layers of the arch
     * @param decoder    top-voxels (with {@code voxels} per unit) or ridgecv
     * @param generator  deepsim fc7 generator weights: also reconstruct X_dir_dgn; null = pixels only
     * @param optimizer  gd or lbfgs, for X_dir and every null
     * @param size       side of the network input for features and reconstructions; 0 = the network's own (224)
     */
    public record Method(String name, String arch, List<String> layers, String decoder, Path generator, String optimizer, int iterations,
                         int size, int voxels) {
        public static final String TAKAGI = "takagi", SHEN = "shen";

        public Method {
            if (!name.equals(TAKAGI) && !name.equals(SHEN)) throw new IllegalArgumentException("method must be takagi or shen, got '" + name + "'");
            if (!arch.equals("vgg19") && !arch.equals("vgg19-caffe")) throw new IllegalArgumentException("arch must be vgg19 or vgg19-caffe, got '" + arch + "'");
            if (!decoder.equals("top-voxels") && !decoder.equals("ridgecv")) throw new IllegalArgumentException("decoder must be top-voxels or ridgecv, got '" + decoder + "'");
            if (!optimizer.equals("gd") && !optimizer.equals("lbfgs")) throw new IllegalArgumentException("optimizer must be gd or lbfgs, got '" + optimizer + "'");
            if (iterations < 1) throw new IllegalArgumentException("iterations must be ≥ 1, got " + iterations);
            if (size < 0) throw new IllegalArgumentException("dir_size must be ≥ 0, got " + size);
            if (voxels < 1) throw new IllegalArgumentException("dir_voxels must be ≥ 1, got " + voxels);
            layers = layers == null || layers.isEmpty() ? null : List.copyOf(layers);
        }

        static Method defaults() {
            return new Method(TAKAGI, "vgg19-caffe", null, "top-voxels", null, "gd", 200, 0, 500);
        }

        public boolean shen() {
            return name.equals(SHEN);
        }

        public Method withName(String n) { return new Method(n, arch, layers, decoder, generator, optimizer, iterations, size, voxels); }
        public Method withArch(String a) { return new Method(name, a, layers, decoder, generator, optimizer, iterations, size, voxels); }
        public Method withLayers(List<String> l) { return new Method(name, arch, l, decoder, generator, optimizer, iterations, size, voxels); }
        public Method withDecoder(String d) { return new Method(name, arch, layers, d, generator, optimizer, iterations, size, voxels); }
        public Method withGenerator(Path g) { return new Method(name, arch, layers, decoder, g, optimizer, iterations, size, voxels); }
        public Method withOptimizer(String o) { return new Method(name, arch, layers, decoder, generator, o, iterations, size, voxels); }
        public Method withIterations(int i) { return new Method(name, arch, layers, decoder, generator, optimizer, i, size, voxels); }
        public Method withSize(int s) { return new Method(name, arch, layers, decoder, generator, optimizer, iterations, s, voxels); }
    }

    /** Half-decade grid 10^0 … 10^6: z-scored voxels with a few hundred trials land inside it. */
    public static final double[] DEFAULT_ALPHAS = {1, 3.16, 10, 31.6, 100, 316, 1e3, 3.16e3, 1e4, 3.16e4, 1e5, 3.16e5, 1e6};
    static final Set<String> KEYS = Set.of("data", "out", "targets", "weights", "samples", "seed", "pixel_size", "roi", "alphas",
            "folds", "bootstrap", "permutations", "pixel_space", "sd_size", "sd_steps", "guidance", "strength", "nets",
            "method", "arch", "layers", "decoder", "generator", "optimizer", "iterations", "dir_size", "dir_voxels");

    public RunConfig {
        if (targets == null || !(targets.equals("pixels") || targets.equals("z,c"))) {
            throw new IllegalArgumentException("targets must be 'pixels' or 'z,c', got '" + targets + "'");
        }
        if (samples < 1) throw new IllegalArgumentException("samples must be at least 1, got " + samples);
        if (pixelSize < 0) throw new IllegalArgumentException("pixel_size must be ≥ 0, got " + pixelSize);
        if (alphas == null || alphas.length == 0) throw new IllegalArgumentException("alphas must not be empty");
        if (folds < 2) throw new IllegalArgumentException("folds must be at least 2, got " + folds);
        if (bootstrap < 1 || permutations < 1) throw new IllegalArgumentException("bootstrap and permutations must be ≥ 1");
        if (pixelSpace < 0) throw new IllegalArgumentException("pixel_space must be ≥ 0, got " + pixelSpace);
        if (sdSize < 8 || sdSize % 8 != 0) throw new IllegalArgumentException("sd_size must be a positive multiple of 8, got " + sdSize);
        if (sdSteps < 1) throw new IllegalArgumentException("sd_steps must be ≥ 1, got " + sdSteps);
        if (!(strength > 0 && strength <= 1)) throw new IllegalArgumentException("strength must be in (0,1], got " + strength);
        if (method == null) throw new IllegalArgumentException("no method given");
        alphas = alphas.clone();
    }

    public static RunConfig defaults(Path data, Path out) {
        return new RunConfig(data, out, "pixels", null, 1, 42, 0, null, DEFAULT_ALPHAS, 5, 2000, 10000, 64, 320, 50, 5, 0.8, null, Method.defaults());
    }

    @Override
    public double[] alphas() {
        return alphas.clone();
    }

    /** This config with the keys present in a JSON object replacing its values. */
    public RunConfig overlay(JsonNode json, String what) {
        if (!json.isObject()) throw new FormatException(what + ": a run config must be a JSON object");
        for (Iterator<String> it = json.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!KEYS.contains(k)) throw new FormatException(what + ": unknown key '" + k + "' (known: " + String.join(", ", new java.util.TreeSet<>(KEYS)) + ")");
        }
        try {
            return new RunConfig(path(json, "data", data), path(json, "out", out), text(json, "targets", targets), path(json, "weights", weights),
                    json.path("samples").asInt(samples), json.path("seed").asLong(seed), json.path("pixel_size").asInt(pixelSize),
                    text(json, "roi", roi), json.has("alphas") ? doubles(json.get("alphas"), what) : alphas, json.path("folds").asInt(folds),
                    json.path("bootstrap").asInt(bootstrap), json.path("permutations").asInt(permutations), json.path("pixel_space").asInt(pixelSpace),
                    json.path("sd_size").asInt(sdSize), json.path("sd_steps").asInt(sdSteps), json.path("guidance").asDouble(guidance),
                    json.path("strength").asDouble(strength), path(json, "nets", nets), method(json, what));
        } catch (IllegalArgumentException e) {
            throw new FormatException(what + ": " + e.getMessage(), e);
        }
    }

    public static RunConfig read(Path file, RunConfig base) {
        return base.overlay(Json.read(file), file.toString());
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("data", data == null ? null : data.toString());
        m.put("out", out == null ? null : out.toString());
        m.put("targets", targets);
        m.put("weights", weights == null ? null : weights.toString());
        m.put("samples", samples);
        m.put("seed", seed);
        m.put("pixel_size", pixelSize);
        m.put("roi", roi);
        m.put("alphas", alphas.clone());
        m.put("folds", folds);
        m.put("bootstrap", bootstrap);
        m.put("permutations", permutations);
        m.put("pixel_space", pixelSpace);
        m.put("sd_size", sdSize);
        m.put("sd_steps", sdSteps);
        m.put("guidance", guidance);
        m.put("strength", strength);
        m.put("nets", nets == null ? null : nets.toString());
        m.put("method", method.name());
        m.put("arch", method.arch());
        m.put("layers", method.layers());
        m.put("decoder", method.decoder());
        m.put("generator", method.generator() == null ? null : method.generator().toString());
        m.put("optimizer", method.optimizer());
        m.put("iterations", method.iterations());
        m.put("dir_size", method.size());
        m.put("dir_voxels", method.voxels());
        return m;
    }

    public void write(Path file) throws IOException {
        Json.write(file, toMap());
    }

    public RunConfig withData(Path d) { return new RunConfig(d, out, targets, weights, samples, seed, pixelSize, roi, alphas, folds, bootstrap, permutations, pixelSpace, sdSize, sdSteps, guidance, strength, nets, method); }
    public RunConfig withOut(Path o) { return new RunConfig(data, o, targets, weights, samples, seed, pixelSize, roi, alphas, folds, bootstrap, permutations, pixelSpace, sdSize, sdSteps, guidance, strength, nets, method); }
    public RunConfig withTargets(String t) { return new RunConfig(data, out, t, weights, samples, seed, pixelSize, roi, alphas, folds, bootstrap, permutations, pixelSpace, sdSize, sdSteps, guidance, strength, nets, method); }
    public RunConfig withWeights(Path w) { return new RunConfig(data, out, targets, w, samples, seed, pixelSize, roi, alphas, folds, bootstrap, permutations, pixelSpace, sdSize, sdSteps, guidance, strength, nets, method); }
    public RunConfig withSamples(int k) { return new RunConfig(data, out, targets, weights, k, seed, pixelSize, roi, alphas, folds, bootstrap, permutations, pixelSpace, sdSize, sdSteps, guidance, strength, nets, method); }
    public RunConfig withSeed(long s) { return new RunConfig(data, out, targets, weights, samples, s, pixelSize, roi, alphas, folds, bootstrap, permutations, pixelSpace, sdSize, sdSteps, guidance, strength, nets, method); }
    public RunConfig withPixelSize(int p) { return new RunConfig(data, out, targets, weights, samples, seed, p, roi, alphas, folds, bootstrap, permutations, pixelSpace, sdSize, sdSteps, guidance, strength, nets, method); }
    public RunConfig withSd(int size, int steps) { return new RunConfig(data, out, targets, weights, samples, seed, pixelSize, roi, alphas, folds, bootstrap, permutations, pixelSpace, size, steps, guidance, strength, nets, method); }
    public RunConfig withNets(Path n) { return new RunConfig(data, out, targets, weights, samples, seed, pixelSize, roi, alphas, folds, bootstrap, permutations, pixelSpace, sdSize, sdSteps, guidance, strength, n, method); }
    public RunConfig withMethod(Method m) { return new RunConfig(data, out, targets, weights, samples, seed, pixelSize, roi, alphas, folds, bootstrap, permutations, pixelSpace, sdSize, sdSteps, guidance, strength, nets, m); }
    public RunConfig withRoi(String r) { return new RunConfig(data, out, targets, weights, samples, seed, pixelSize, r, alphas, folds, bootstrap, permutations, pixelSpace, sdSize, sdSteps, guidance, strength, nets, method); }

    /** A stable text of the values that determine a stage's outputs (used as its cache key). */
    String key(String... fields) {
        Map<String, Object> m = toMap();
        StringBuilder sb = new StringBuilder();
        for (String f : fields) {
            Object v = m.get(f);
            sb.append(f).append('=').append(v instanceof double[] d ? Arrays.toString(d) : String.valueOf(v)).append(';');
        }
        return sb.toString();
    }

    /** The method's keys of a run.json over this config's method. */
    private Method method(JsonNode j, String what) {
        List<String> layers = method.layers();
        if (j.has("layers")) {
            JsonNode a = j.get("layers");
            if (!a.isNull() && !a.isArray()) throw new FormatException(what + ": layers must be an array of node names");
            layers = new ArrayList<>();
            for (JsonNode n : a) layers.add(n.asText());
        }
        return new Method(text(j, "method", method.name()), text(j, "arch", method.arch()), layers, text(j, "decoder", method.decoder()),
                path(j, "generator", method.generator()), text(j, "optimizer", method.optimizer()), j.path("iterations").asInt(method.iterations()),
                j.path("dir_size").asInt(method.size()), j.path("dir_voxels").asInt(method.voxels()));
    }

    private static Path path(JsonNode j, String k, Path dflt) {
        return j.hasNonNull(k) ? Path.of(j.get(k).asText()) : dflt;
    }

    private static String text(JsonNode j, String k, String dflt) {
        return j.hasNonNull(k) ? j.get(k).asText() : dflt;
    }

    private static double[] doubles(JsonNode a, String what) {
        if (!a.isArray()) throw new FormatException(what + ": alphas must be an array of numbers");
        double[] d = new double[a.size()];
        for (int i = 0; i < d.length; i++) {
            if (!a.get(i).isNumber()) throw new FormatException(what + ": alphas[" + i + "] is not a number");
            d[i] = a.get(i).asDouble();
        }
        return d;
    }
}
