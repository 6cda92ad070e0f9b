package brain2img.sd;

import brain2img.backend.Backend;
import brain2img.clip.ClipEncoderLayer;
import brain2img.io.FormatException;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;

/**
 * The CLIP text transformer as Stable Diffusion v1 uses it (Hugging Face {@code CLIPTextModel}): token +
 * learned position embeddings, pre-LayerNorm blocks with causal multi-head self-attention and a quick_gelu
 * MLP, a final LayerNorm. {@link #encode} returns the last hidden state of all positions, which SD's U-Net
 * cross-attends to; no padding mask and no pooling.
 *
 * <p>Weights are read by their Hugging Face names ({@code text_model.*}); every weight is uploaded to the
 * backend once, here, with its shape checked.
 */
public final class ClipTextEncoder {
    /**
     * Keys of a single-file checkpoint after {@code cond_stage_model.transformer.}: HF names, as they are; files
     * saved with older transformers lack the {@code text_model.} level, which is added. Buffers
     * ({@code position_ids}) and anything else are dropped.
     */
    public static final KeyMapping KEYS = k -> {
        if (k.endsWith("position_ids")) return null;
        if (k.startsWith("text_model.")) return k;
        boolean older = k.startsWith("embeddings.") || k.startsWith("encoder.") || k.startsWith("final_layer_norm.");
        return older ? "text_model." + k : null;
    };

    /** The hyper-parameters of {@code text_encoder/config.json} this model needs. */
    public record Config(int width, int mlpWidth, int heads, int layers, int maxPositions, int vocabSize,
                         float layerNormEps, Backend.Unary activation) {
        public static Config from(JsonNode json, String what) {
            Config c = new Config(intField(json, "hidden_size", what), intField(json, "intermediate_size", what),
                    intField(json, "num_attention_heads", what), intField(json, "num_hidden_layers", what),
                    intField(json, "max_position_embeddings", what), intField(json, "vocab_size", what),
                    (float) json.path("layer_norm_eps").asDouble(1e-5), activation(json.path("hidden_act").asText("quick_gelu"), what));
            if (c.width % c.heads != 0) {
                throw new FormatException(what + ": hidden_size " + c.width + " is not divisible by num_attention_heads " + c.heads);
            }
            return c;
        }

        private static int intField(JsonNode json, String field, String what) {
            JsonNode n = json.get(field);
            if (n == null || !n.canConvertToInt() || n.intValue() <= 0) {
                throw new FormatException(what + ": '" + field + "' must be a positive integer");
            }
            return n.intValue();
        }

        private static Backend.Unary activation(String name, String what) {
            return switch (name) {
                case "quick_gelu" -> Backend.Unary.QUICK_GELU;
                case "gelu" -> Backend.Unary.GELU;
                default -> throw new FormatException(what + ": unsupported hidden_act '" + name + "' (quick_gelu or gelu)");
            };
        }
    }

    private final Backend be;
    private final Config config;
    private final Tensor tokenEmbedding;    // (V,D)
    private final Tensor positionEmbedding; // (P,D)
    private final ClipEncoderLayer[] blocks;
    private final Tensor finalGamma, finalBeta;

    private ClipTextEncoder(Backend be, Config config, TensorSource w) {
        this.be = be;
        this.config = config;
        long d = config.width, f = config.mlpWidth;
        String e = "text_model.embeddings.";
        tokenEmbedding = load(w, e + "token_embedding.weight", config.vocabSize, d);
        positionEmbedding = load(w, e + "position_embedding.weight", config.maxPositions, d);
        blocks = new ClipEncoderLayer[config.layers];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = ClipEncoderLayer.load((name, shape) -> load(w, name, shape), "text_model.encoder.layers." + i + ".", d, f);
        }
        finalGamma = load(w, "text_model.final_layer_norm.weight", d);
        finalBeta = load(w, "text_model.final_layer_norm.bias", d);
    }

    private Tensor load(TensorSource w, String name, long... shape) {
        return be.upload(w.get(name, shape));
    }

    /** Builds the encoder from {@code text_encoder/config.json} (or --config / the v1 defaults) and its weights. */
    public static ClipTextEncoder load(SdSource src, Backend be) {
        Config config = Config.from(src.config(SdSource.TEXT_ENCODER), src.root() + " text_encoder config");
        return new ClipTextEncoder(be, config, src.component(SdSource.TEXT_ENCODER, KEYS));
    }

    /** Builds the encoder from a config and weights under HF names (benchmarks with random weights, tests). */
    public static ClipTextEncoder create(Config config, TensorSource weights, Backend be) {
        return new ClipTextEncoder(be, config, weights);
    }

    public Config config() { return config; }

    /** ids (N,L) i32/i64 with L ≤ max_position_embeddings (77 for SD) → last hidden state (N,L,D) f32. */
    public Tensor encode(Tensor ids) {
        if (ids.rank() != 2 || (ids.dtype() != DType.I32 && ids.dtype() != DType.I64)) {
            throw new IllegalArgumentException("token ids must be i32/i64 (N,L), got " + ids.shapeString());
        }
        int n = ids.dimInt(0), len = ids.dimInt(1), d = config.width;
        if (len > config.maxPositions) {
            throw new IllegalArgumentException("token ids have " + len + " positions, the encoder only " + config.maxPositions);
        }
        for (long i = 0; i < ids.numel(); i++) {
            long id = ids.getLong(i);
            if (id < 0 || id >= config.vocabSize) {
                throw new IllegalArgumentException("token id " + id + " (row " + i / len + ") is outside the vocabulary of " + config.vocabSize);
            }
        }
        if (n == 0) return be.allocate(0, len, d);
        Tensor x = be.embedding(tokenEmbedding, ids.reshape((long) n * len)).reshape(n, len, d);
        x = be.add(x, len == config.maxPositions ? positionEmbedding : positionEmbedding.slice(0, len));
        for (ClipEncoderLayer b : blocks) {
            x = b.forward(be, x, config.heads, config.layerNormEps, config.activation, true); // position i sees 0..i
        }
        return be.layerNorm(x, finalGamma, finalBeta, config.layerNormEps);
    }

    /** Tokenizes and encodes: texts → (N,77,D). */
    public Tensor encodeTexts(ClipTokenizer tok, List<String> texts) {
        return encode(ids(tok.encode(texts)));
    }

    /** Rows of equal length as an i32 (N,L) tensor. */
    public static Tensor ids(int[][] rows) {
        int len = rows.length == 0 ? ClipTokenizer.CONTEXT_LENGTH : rows[0].length;
        int[] flat = new int[rows.length * len];
        for (int i = 0; i < rows.length; i++) {
            if (rows[i].length != len) throw new IllegalArgumentException("id row " + i + " has " + rows[i].length + " ids, row 0 has " + len);
            System.arraycopy(rows[i], 0, flat, i * len, len);
        }
        return Tensor.ofInts(flat, rows.length, len);
    }
}
