package brain2img.vision;

import brain2img.backend.Backend;
import brain2img.clip.ClipEncoderLayer;
import brain2img.io.FormatException;
import brain2img.io.Json;
import brain2img.io.WeightFile;
import brain2img.tensor.Tensor;
import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * CLIP's vision tower with its projection (arch {@code clip-vit}): OpenAI's {@code VisionTransformer}, which
 * Hugging Face calls {@code CLIPVisionModelWithProjection}. A patch convolution without bias, a class embedding
 * prepended, learned position embeddings, a LayerNorm before the transformer ({@code pre_layrnorm}), pre-LN blocks
 * of full (non-causal) multi-head self-attention and an MLP (quick_gelu unless the config says otherwise); the
 * class token after {@code post_layernorm}, times the projection, is the image embedding.
 *
 * <p>Nodes: {@code hidden_states.0} (embeddings after the pre-LayerNorm, (N,L,D) with L = 1 + patches),
 * {@code hidden_states.i} (after block i), and {@code image_embeds} ((N,E), = HF {@code get_image_features} =
 * OpenAI {@code encode_image}; not normalised).
 *
 * <p>Weights: Hugging Face names ({@code vision_model.*}, {@code visual_projection.weight}; a whole CLIPModel file
 * is fine, its text tower is ignored) or OpenAI's ({@code visual.*}, also open_clip's state dicts), from
 * safetensors or a PyTorch state dict. Every size is read from the weights' shapes; a config ({@code config.json}
 * with a {@code vision_config}, or a bare vision config) supplies the head count, activation and LayerNorm eps and
 * is checked against the shapes. Without a config the heads are width / 64, as in OpenAI's code. OpenAI's released
 * {@code .pt} files are TorchScript archives, which are not state dicts and are refused; convert them with
 * {@code torch.save(model.state_dict())} first.
 *
 * <p>Input gradients are not provided: {@link #lossGradient} throws {@link UnsupportedOperationException}
 * (CLIP is used here as a metric, not as an optimisation target).
 */
public final class ClipVision implements VisionNet {
    public static final String ARCH = "clip-vit";
    /** CLIP's preprocessing (OpenAI's and HF's CLIPImageProcessor): RGB in [0,1], then (x − mean) / std. */
    public static final float[] MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
    public static final float[] STD = {0.26862954f, 0.26130258f, 0.27577711f};
    public static final String IMAGE_EMBEDS = "image_embeds";

    /** The tower's hyper-parameters: widths, depth, heads, patch and image side, projection size, eps, activation. */
    public record Config(int width, int layers, int heads, int patch, int imageSize, int mlpWidth, int embedDim,
                         float layerNormEps, Backend.Unary activation) {
        public int gridSide() { return imageSize / patch; }

        public int tokens() { return gridSide() * gridSide() + 1; }
    }

    private final Backend be;
    private final Config config;
    private final Path source;
    private final List<Tensor> uploaded = new ArrayList<>();
    private final Tensor patchW;       // (D,3,P,P)
    private final Tensor classEmb;     // (D)
    private final Tensor positionEmb;  // (L,D)
    private final Tensor preG, preB, postG, postB;
    private final ClipEncoderLayer[] blocks;
    private final Tensor projW;        // (E,D), HF's visual_projection layout
    private final List<String> nodes;

    private ClipVision(Backend be, Config c, Path source, Map<String, Tensor> w) {
        this.be = be;
        this.config = c;
        this.source = source;
        long d = c.width, f = c.mlpWidth;
        String e = "vision_model.embeddings.";
        patchW = load(w, e + "patch_embedding.weight", d, 3, c.patch, c.patch);
        classEmb = load(w, e + "class_embedding", d);
        positionEmb = load(w, e + "position_embedding.weight", c.tokens(), d);
        preG = load(w, "vision_model.pre_layrnorm.weight", d);
        preB = load(w, "vision_model.pre_layrnorm.bias", d);
        blocks = new ClipEncoderLayer[c.layers];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = ClipEncoderLayer.load((name, shape) -> load(w, name, shape), "vision_model.encoder.layers." + i + ".", d, f);
        }
        postG = load(w, "vision_model.post_layernorm.weight", d);
        postB = load(w, "vision_model.post_layernorm.bias", d);
        projW = load(w, "visual_projection.weight", c.embedDim, d);
        List<String> n = new ArrayList<>();
        for (int i = 0; i <= c.layers; i++) n.add("hidden_states." + i);
        n.add(IMAGE_EMBEDS);
        nodes = List.copyOf(n);
    }

    private Tensor load(Map<String, Tensor> w, String name, long... shape) {
        Tensor t = w.get(name);
        if (t == null) throw new FormatException(source + ": missing tensor '" + name + "'");
        if (!Arrays.equals(t.shape(), shape)) {
            throw new FormatException(source + ": '" + name + "' has shape " + Arrays.toString(t.shape())
                    + ", expected " + Arrays.toString(shape));
        }
        Tensor u = be.upload(t);
        uploaded.add(u);
        return u;
    }

    /**
     * Loads the tower from a weight file (or a folder: its weights, and its {@code config.json} when
     * {@code config} is null) in either layout; {@code config} may be null (sizes from the shapes, heads width/64).
     */
    public static ClipVision open(Path weights, Path config, Backend backend) {
        if (config == null && Files.isDirectory(weights) && Files.isRegularFile(weights.resolve("config.json"))) {
            config = weights.resolve("config.json");
        }
        JsonNode json = config == null ? null : visionConfig(Json.read(config), config);
        // every weight is copied to the backend (converted to f32), so the file is closed after loading
        try (WeightFile file = WeightFile.open(weights)) {
            Map<String, Tensor> w = file.contains("vision_model.embeddings.patch_embedding.weight") ? hfNames(file)
                    : file.contains("visual.conv1.weight") ? openAiNames(file) : null;
            if (w == null) {
                throw new FormatException(file.source() + ": no CLIP vision tower (neither 'vision_model.embeddings."
                        + "patch_embedding.weight' nor 'visual.conv1.weight')");
            }
            Config c = configFrom(w, json, file.source() + (config == null ? "" : " / " + config));
            return new ClipVision(backend, c, file.source(), w);
        }
    }

    // ------------------------------------------------------------------ layouts and config

    /** HF names as stored (f32 host tensors; the text tower and buffers are left out). */
    private static Map<String, Tensor> hfNames(WeightFile f) {
        Map<String, Tensor> w = new LinkedHashMap<>();
        for (String n : f.names()) {
            boolean vision = n.startsWith("vision_model.") && !n.endsWith("position_ids");
            if (vision || n.equals("visual_projection.weight")) w.put(n, f.getF32(n));
        }
        return w;
    }

    /**
     * OpenAI's {@code visual.*} under HF names: the fused {@code in_proj} (3D,D) split into q, k, v row blocks,
     * {@code proj} (D,E), used as x·proj, transposed to (E,D).
     */
    private static Map<String, Tensor> openAiNames(WeightFile f) {
        Map<String, Tensor> w = new LinkedHashMap<>();
        String e = "vision_model.embeddings.";
        w.put(e + "patch_embedding.weight", f.getF32("visual.conv1.weight"));
        w.put(e + "class_embedding", f.getF32("visual.class_embedding"));
        w.put(e + "position_embedding.weight", f.getF32("visual.positional_embedding"));
        copyWeightAndBias(f, w, "visual.ln_pre", "vision_model.pre_layrnorm");
        copyWeightAndBias(f, w, "visual.ln_post", "vision_model.post_layernorm");
        for (int i = 0; f.contains("visual.transformer.resblocks." + i + ".ln_1.weight"); i++) {
            String o = "visual.transformer.resblocks." + i + ".", h = "vision_model.encoder.layers." + i + ".";
            Tensor inW = f.getF32(o + "attn.in_proj_weight"), inB = f.getF32(o + "attn.in_proj_bias");
            if (inW.rank() != 2 || inW.dim(0) % 3 != 0 || inB.rank() != 1 || inB.dim(0) != inW.dim(0)) {
                throw new FormatException(f.source() + ": '" + o + "attn.in_proj_weight' " + inW.shapeString()
                        + " / in_proj_bias " + inB.shapeString() + " are not a (3D,D) / (3D) pair");
            }
            long d = inW.dim(0) / 3;
            String[] qkv = {"q", "k", "v"};
            for (int j = 0; j < 3; j++) {
                w.put(h + "self_attn." + qkv[j] + "_proj.weight", inW.slice(j * d, (j + 1) * d));
                w.put(h + "self_attn." + qkv[j] + "_proj.bias", inB.slice(j * d, (j + 1) * d));
            }
            copyWeightAndBias(f, w, o + "attn.out_proj", h + "self_attn.out_proj");
            copyWeightAndBias(f, w, o + "ln_1", h + "layer_norm1");
            copyWeightAndBias(f, w, o + "ln_2", h + "layer_norm2");
            copyWeightAndBias(f, w, o + "mlp.c_fc", h + "mlp.fc1");
            copyWeightAndBias(f, w, o + "mlp.c_proj", h + "mlp.fc2");
        }
        Tensor proj = f.getF32("visual.proj");
        if (proj.rank() != 2) throw new FormatException(f.source() + ": 'visual.proj' is " + proj.shapeString() + ", expected (width, embed)");
        w.put("visual_projection.weight", transpose(proj));
        return w;
    }

    private static void copyWeightAndBias(WeightFile f, Map<String, Tensor> w, String from, String to) {
        w.put(to + ".weight", f.getF32(from + ".weight"));
        w.put(to + ".bias", f.getF32(from + ".bias"));
    }

    private static Tensor transpose(Tensor m) {
        int r = m.dimInt(0), c = m.dimInt(1);
        float[] a = m.toFloatArray(), t = new float[a.length];
        for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) t[j * r + i] = a[i * c + j];
        return Tensor.of(t, c, r);
    }

    /** The vision part of a CLIPModel config ({@code vision_config}) or a bare CLIPVisionConfig. */
    private static JsonNode visionConfig(JsonNode json, Path file) {
        if (json.has("vision_config")) {
            JsonNode v = json.get("vision_config").deepCopy();
            if (!v.has("projection_dim") && json.has("projection_dim")) {
                ((com.fasterxml.jackson.databind.node.ObjectNode) v).set("projection_dim", json.get("projection_dim"));
            }
            return v;
        }
        if (json.has("hidden_size") || json.has("num_attention_heads")) return json;
        throw new FormatException(file + ": neither a 'vision_config' nor a CLIP vision config (no hidden_size)");
    }

    /** Sizes from the weights' shapes; heads, activation and eps from the config; every config size checked. */
    private static Config configFrom(Map<String, Tensor> w, JsonNode json, String what) {
        long[] pw = shape(w, "vision_model.embeddings.patch_embedding.weight", what);
        if (pw.length != 4 || pw[1] != 3 || pw[2] != pw[3]) {
            throw new FormatException(what + ": patch embedding " + Arrays.toString(pw) + " is not (width,3,P,P)");
        }
        int width = (int) pw[0], patch = (int) pw[2];
        long[] pos = shape(w, "vision_model.embeddings.position_embedding.weight", what);
        int grid = (int) Math.round(Math.sqrt(pos[0] - 1));
        if (pos.length != 2 || (long) grid * grid + 1 != pos[0]) {
            throw new FormatException(what + ": position embedding " + Arrays.toString(pos) + " is not (1 + g², width)");
        }
        int layers = 0;
        while (w.containsKey("vision_model.encoder.layers." + layers + ".layer_norm1.weight")) layers++;
        if (layers == 0) throw new FormatException(what + ": no transformer layers");
        int mlp = (int) shape(w, "vision_model.encoder.layers.0.mlp.fc1.weight", what)[0];
        int embed = (int) shape(w, "visual_projection.weight", what)[0];
        int heads = width % 64 == 0 ? width / 64 : 0;
        Backend.Unary act = Backend.Unary.QUICK_GELU;
        float eps = 1e-5f;
        if (json != null) {
            expect(json, "hidden_size", width, what);
            expect(json, "patch_size", patch, what);
            expect(json, "image_size", grid * patch, what);
            expect(json, "num_hidden_layers", layers, what);
            expect(json, "intermediate_size", mlp, what);
            expect(json, "projection_dim", embed, what);
            if (json.has("num_attention_heads")) heads = json.get("num_attention_heads").asInt(0);
            act = switch (json.path("hidden_act").asText("quick_gelu")) {
                case "quick_gelu" -> Backend.Unary.QUICK_GELU;
                case "gelu" -> Backend.Unary.GELU;
                default -> throw new FormatException(what + ": unsupported hidden_act '" + json.path("hidden_act").asText() + "' (quick_gelu or gelu)");
            };
            eps = (float) json.path("layer_norm_eps").asDouble(1e-5);
        }
        if (heads <= 0 || width % heads != 0) {
            throw new FormatException(what + ": cannot tell the number of attention heads for width " + width
                    + (json == null ? " (not a multiple of 64: give a config with num_attention_heads)" : " from num_attention_heads"));
        }
        return new Config(width, layers, heads, patch, grid * patch, mlp, embed, eps, act);
    }

    private static long[] shape(Map<String, Tensor> w, String name, String what) {
        Tensor t = w.get(name);
        if (t == null) throw new FormatException(what + ": missing tensor '" + name + "'");
        return t.shape();
    }

    private static void expect(JsonNode json, String field, int actual, String what) {
        if (json.has(field) && json.get(field).asInt(-1) != actual) {
            throw new FormatException(what + ": config " + field + " " + json.get(field) + " does not match the weights (" + actual + ")");
        }
    }

    // ------------------------------------------------------------------ VisionNet

    public Config config() { return config; }

    @Override
    public String arch() { return ARCH; }

    @Override
    public List<String> nodes() { return nodes; }

    @Override
    public InputSpace inputSpace() {
        return new InputSpace(config.imageSize, false, MEAN.clone(), STD.clone());
    }

    /** x (N,3,S,S) with S = {@code config().imageSize()}, CLIP-normalised → the requested nodes, in request order. */
    @Override
    public Map<String, Tensor> features(Tensor x, Collection<String> requested) {
        int deepest = -1;
        for (String n : requested) {
            int i = nodes.indexOf(n);
            if (i < 0) throw new IllegalArgumentException("clip-vit has no node '" + n + "' (nodes: hidden_states.0 … hidden_states." + config.layers + ", image_embeds)");
            deepest = Math.max(deepest, i);
        }
        int s = config.imageSize;
        if (x.rank() != 4 || x.dim(1) != 3 || x.dim(2) != s || x.dim(3) != s) {
            throw new IllegalArgumentException("clip-vit input must be (N,3," + s + "," + s + "), got " + x.shapeString());
        }
        Map<String, Tensor> found = new LinkedHashMap<>();
        Tensor h = embed(be.upload(x));
        found.put(nodes.get(0), h);
        for (int i = 0; i < Math.min(deepest, config.layers); i++) {
            h = blocks[i].forward(be, h, config.heads, config.layerNormEps, config.activation, false);
            found.put(nodes.get(i + 1), h);
        }
        if (deepest == nodes.size() - 1) found.put(IMAGE_EMBEDS, project(h));
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String n : requested) out.put(n, found.get(n));
        return out;
    }

    /** The projected image embedding (N,E) alone. */
    public Tensor imageEmbeds(Tensor x) {
        return features(x, List.of(IMAGE_EMBEDS)).get(IMAGE_EMBEDS);
    }

    /** Patches → tokens, class token first, plus positions, then the pre-LayerNorm: (N,L,D). */
    private Tensor embed(Tensor x) {
        int n = x.dimInt(0), d = config.width, g = config.gridSide();
        Tensor p = be.conv2d(x, patchW, null, config.patch, config.patch, 0, 0, 0, 0); // (N,D,g,g)
        p = be.transposeLast2(p.reshape(n, d, (long) g * g));                            // (N,g²,D)
        Tensor cls = be.add(be.allocate(n, 1, d), classEmb);                            // (N,1,D)
        Tensor h = be.add(be.concatChannels(cls, p), positionEmb);                      // (N,L,D)
        return be.layerNorm(h, preG, preB, config.layerNormEps);
    }

    /**
     * post_layernorm, then the class token (row 0 of each item) times the projection: one strided batched GEMM
     * reads row 0 of each (L,D) item, so no gather is needed. (N,L,D) → (N,E).
     */
    private Tensor project(Tensor h) {
        int n = h.dimInt(0), l = h.dimInt(1), d = config.width, e = config.embedDim;
        Tensor post = be.layerNorm(h, postG, postB, config.layerNormEps);
        Tensor out = be.allocate(n, e);
        be.gemm(false, true, 1, e, d, 1f, post, 0, d, (long) l * d, projW, 0, d, 0, 0f, out, 0, e, e, n);
        return out;
    }

    /** Not provided: CLIP serves as a metric here, and no input gradient is implemented for it. */
    @Override
    public LossGradient lossGradient(Tensor x, Map<String, Tensor> targets, Map<String, Double> weights) {
        throw new UnsupportedOperationException("clip-vit has no input gradient (CLIP is only used as a feature "
                + "extractor; use a CNN such as vgg19-caffe for image optimisation)");
    }

    @Override
    public void close() {
        for (Tensor t : uploaded) t.close(); // frees device copies; a no-op for CPU heap tensors
        uploaded.clear();
    }
}
