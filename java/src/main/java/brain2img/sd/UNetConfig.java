package brain2img.sd;

import brain2img.io.FormatException;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The hyper-parameters of a diffusers {@code UNet2DConditionModel} ({@code unet/config.json}), reduced to what
 * the SD v1/v2 family uses. Per-level arrays are indexed by down level 0..levels-1 (finest first); up block
 * {@code i} works on level {@code levels-1-i}.
 *
 * <p>The {@code attention_head_dim} quirk: diffusers ≤ 0.21 passes {@code attention_head_dim} as the number of
 * heads when {@code num_attention_heads} is null, so SD v1's {@code attention_head_dim: 8} means 8 heads
 * (head size channels/8) at every level.
 *
 * @param layersPerBlock     ResNets per down level (up levels have one more)
 * @param downAttention      whether down level i is a CrossAttnDownBlock2D (else DownBlock2D)
 * @param upAttention        whether up block i is a CrossAttnUpBlock2D (else UpBlock2D)
 * @param heads              attention heads per level
 * @param transformerLayers  BasicTransformerBlocks per spatial transformer, per level
 * @param crossAttentionDim  width of the context rows (a per-level list must repeat one value)
 * @param downsamplePadding  1: symmetric padding in the stride-2 conv; 0: pad right/bottom by one first
 */
public record UNetConfig(int inChannels, int outChannels, int[] blockOutChannels, int[] layersPerBlock,
                         boolean[] downAttention, boolean[] upAttention, int[] heads, int[] transformerLayers,
                         int crossAttentionDim, int normGroups, float normEps, boolean linearProjection,
                         boolean flipSinToCos, float freqShift, int convInKernel, int convOutKernel,
                         int downsamplePadding) {

    /** GroupNorm eps inside spatial transformers: fixed by diffusers, not in the config. */
    public static final float TRANSFORMER_NORM_EPS = 1e-6f;
    /** LayerNorm eps inside BasicTransformerBlock (diffusers' norm_eps default for the block). */
    public static final float LAYER_NORM_EPS = 1e-5f;

    public int levels() { return blockOutChannels.length; }

    /** Width of the sinusoidal timestep features (= block_out_channels[0]). */
    public int timeProjDim() { return blockOutChannels[0]; }

    /** Width of the time MLP output fed to every ResNet (= 4 · block_out_channels[0]). */
    public int timeEmbedDim() { return 4 * blockOutChannels[0]; }

    /**
     * Sides that are multiples of this halve evenly at every level (one halving per downsampler); other sides
     * work too (see {@link #downsampled}), diffusers then resizes each up level to its skip's size.
     */
    public int sizeMultiple() { return 1 << (levels() - 1); }

    /**
     * A side after one downsampler, a 3×3 stride-2 conv padded (downsample_padding, 1): ⌈n/2⌉ for padding 1,
     * ⌊n/2⌋ for padding 0 (0 when n = 1: too small).
     */
    public int downsampled(int n) {
        return Math.floorDiv(n + downsamplePadding - 2, 2) + 1;
    }

    /** The smallest latent side that stays ≥ 1 through every downsampler: 1, or 2^(levels−1) with padding 0. */
    public int minSide() {
        int n = 1;
        while (!reachesBottom(n)) n++;
        return n;
    }

    private boolean reachesBottom(int n) {
        for (int i = 0; i < levels() - 1 && n >= 1; i++) n = downsampled(n);
        return n >= 1;
    }

    /** Throws IllegalArgumentException unless shape is (B,in_channels,h,w) with h, w ≥ {@link #minSide()} (any size, as diffusers). */
    public void checkLatent(long[] s) {
        int min = minSide();
        if (s.length != 4 || s[0] == 0 || s[1] != inChannels || s[2] < min || s[3] < min
                || s[2] > Integer.MAX_VALUE || s[3] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("latent must be (B," + inChannels + ",h,w) with h, w ≥ " + min
                    + ", got " + Arrays.toString(s));
        }
    }

    /** Throws IllegalArgumentException unless shape is (batch,S,cross_attention_dim) with S ≥ 1. */
    public void checkContext(long[] s, long batch) {
        if (s.length != 3 || s[0] != batch || s[1] == 0 || s[2] != crossAttentionDim) {
            throw new IllegalArgumentException("context must be (" + batch + ",S," + crossAttentionDim + ") for a batch of "
                    + batch + ", got " + Arrays.toString(s));
        }
    }

    /** Throws IllegalArgumentException unless there is one timestep per item, or one for all. */
    public static void checkTimesteps(int count, long batch) {
        if (count != batch && count != 1) {
            throw new IllegalArgumentException(count + " timesteps for a batch of " + batch + " (need " + batch + " or 1)");
        }
    }

    /** Options whose non-default values change the network in ways this implementation does not model. */
    private static final List<String> MUST_BE_NULL = List.of(
            "class_embed_type", "num_class_embeds", "addition_embed_type", "addition_time_embed_dim",
            "encoder_hid_dim", "encoder_hid_dim_type", "time_cond_proj_dim", "time_embedding_dim",
            "time_embedding_act_fn", "timestep_post_act", "cross_attention_norm",
            "projection_class_embeddings_input_dim");
    private static final Set<String> DOWN_TYPES = Set.of("CrossAttnDownBlock2D", "DownBlock2D");
    private static final Set<String> UP_TYPES = Set.of("CrossAttnUpBlock2D", "UpBlock2D");

    /** Parses and validates a diffusers U-Net config; {@code what} names the source in errors. */
    public static UNetConfig parse(JsonNode c, String what) {
        String cls = c.path("_class_name").asText("UNet2DConditionModel");
        if (!cls.equals("UNet2DConditionModel")) fail(what, "_class_name " + cls + " is not UNet2DConditionModel");
        for (String k : MUST_BE_NULL) {
            if (c.hasNonNull(k)) fail(what, "'" + k + "' = " + c.get(k) + " is not supported (SD v1/v2 U-Nets have it null)");
        }
        requireText(c, what, "act_fn", "silu");
        requireText(c, what, "time_embedding_type", "positional");
        requireText(c, what, "resnet_time_scale_shift", "default");
        requireText(c, what, "attention_type", "default");
        requireText(c, what, "mid_block_type", "UNetMidBlock2DCrossAttn");
        for (String k : List.of("dual_cross_attention", "class_embeddings_concat", "resnet_skip_time_act",
                "mid_block_only_cross_attention", "center_input_sample")) {
            if (c.path(k).asBoolean(false)) fail(what, "'" + k + "' = true is not supported");
        }
        JsonNode only = c.path("only_cross_attention");
        if (only.isArray() ? anyTrue(only) : only.asBoolean(false)) fail(what, "'only_cross_attention' = true is not supported");
        for (String k : List.of("mid_block_scale_factor", "resnet_out_scale_factor")) {
            if (c.has(k) && c.get(k).asDouble() != 1.0) fail(what, "'" + k + "' = " + c.get(k) + " is not supported (only 1)");
        }
        if (c.path("attention_bias").asBoolean(false)) fail(what, "'attention_bias' = true is not supported");

        int[] blocks = intArray(c, what, "block_out_channels", -1, null);
        int levels = blocks.length;
        if (levels == 0) fail(what, "'block_out_channels' is empty");
        String[] down = textArray(c, what, "down_block_types", levels, DOWN_TYPES);
        String[] up = textArray(c, what, "up_block_types", levels, UP_TYPES);
        boolean[] downAttn = new boolean[levels], upAttn = new boolean[levels];
        for (int i = 0; i < levels; i++) {
            downAttn[i] = down[i].startsWith("CrossAttn");
            upAttn[i] = up[i].startsWith("CrossAttn");
        }
        // the quirk: num_attention_heads falls back to attention_head_dim, both meaning heads
        String headsKey = c.hasNonNull("num_attention_heads") ? "num_attention_heads" : "attention_head_dim";
        int[] heads = intArray(c, what, headsKey, levels, 8);
        int groups = c.path("norm_num_groups").asInt(32);
        for (int i = 0; i < levels; i++) {
            if (blocks[i] <= 0 || blocks[i] % groups != 0) {
                fail(what, "block_out_channels[" + i + "] = " + blocks[i] + " is not a positive multiple of norm_num_groups " + groups);
            }
            if (blocks[i] % heads[i] != 0) {
                fail(what, "block_out_channels[" + i + "] = " + blocks[i] + " is not divisible by " + heads[i] + " heads");
            }
        }
        int convIn = c.path("conv_in_kernel").asInt(3), convOut = c.path("conv_out_kernel").asInt(3);
        if (convIn % 2 == 0 || convOut % 2 == 0) fail(what, "conv_in_kernel/conv_out_kernel must be odd");
        int pad = c.path("downsample_padding").asInt(1);
        if (pad != 0 && pad != 1) fail(what, "'downsample_padding' = " + pad + " is not supported (0 or 1)");
        return new UNetConfig(
                c.path("in_channels").asInt(4), c.path("out_channels").asInt(4), blocks,
                intArray(c, what, "layers_per_block", levels, 2), downAttn, upAttn, heads,
                intArray(c, what, "transformer_layers_per_block", levels, 1),
                crossAttentionDim(c, what, levels),
                groups, (float) c.path("norm_eps").asDouble(1e-5), c.path("use_linear_projection").asBoolean(false),
                c.path("flip_sin_to_cos").asBoolean(true), (float) c.path("freq_shift").asDouble(0),
                convIn, convOut, pad);
    }

    /** The config of a checkpoint. */
    public static UNetConfig of(SdSource src) {
        return parse(src.config(SdSource.UNET), src.root() + " (unet config)");
    }

    private static void fail(String what, String msg) {
        throw new FormatException(what + ": " + msg);
    }

    private static void requireText(JsonNode c, String what, String key, String only) {
        if (c.hasNonNull(key) && !c.get(key).asText().equals(only)) {
            fail(what, "'" + key + "' = " + c.get(key) + " is not supported (only \"" + only + "\")");
        }
    }

    private static boolean anyTrue(JsonNode arr) {
        for (JsonNode n : arr) if (n.asBoolean(false)) return true;
        return false;
    }

    /**
     * An int or a list of ints; a single int is repeated over the levels. {@code levels} -1: any length
     * (block_out_channels itself); {@code def} is used when the key is absent or null (null: required).
     */
    private static int[] intArray(JsonNode c, String what, String key, int levels, Integer def) {
        JsonNode n = c.get(key);
        if (n == null || n.isNull()) {
            if (def == null) fail(what, "missing '" + key + "'");
            int[] out = new int[levels];
            Arrays.fill(out, def);
            return out;
        }
        if (n.isInt()) {
            if (levels < 0) fail(what, "'" + key + "' must be a list");
            int[] out = new int[levels];
            Arrays.fill(out, n.asInt());
            return out;
        }
        if (!n.isArray() || (levels >= 0 && n.size() != levels)) {
            fail(what, "'" + key + "' = " + n + " must be an int or a list of " + (levels < 0 ? "ints" : levels + " ints"));
        }
        int[] out = new int[n.size()];
        for (int i = 0; i < out.length; i++) {
            if (!n.get(i).isInt() || n.get(i).asInt() <= 0) fail(what, "'" + key + "'[" + i + "] = " + n.get(i) + " must be a positive int");
            out[i] = n.get(i).asInt();
        }
        return out;
    }

    private static int crossAttentionDim(JsonNode c, String what, int levels) {
        int[] dims = intArray(c, what, "cross_attention_dim", levels, 1280);
        for (int d : dims) {
            if (d != dims[0]) fail(what, "'cross_attention_dim' = " + c.get("cross_attention_dim") + ": one context width for all levels is required");
        }
        return dims[0];
    }

    private static String[] textArray(JsonNode c, String what, String key, int levels, Set<String> allowed) {
        JsonNode n = c.get(key);
        if (n == null || !n.isArray() || n.size() != levels) {
            fail(what, "'" + key + "' must be a list of " + levels + " block types (one per block_out_channels entry)");
        }
        String[] out = new String[levels];
        for (int i = 0; i < levels; i++) {
            out[i] = n.get(i).asText();
            if (!allowed.contains(out[i])) fail(what, "'" + key + "'[" + i + "] = " + out[i] + " is not supported (" + allowed + ")");
        }
        return out;
    }

    @Override
    public String toString() {
        return "UNetConfig[channels=" + Arrays.toString(blockOutChannels) + ", layers=" + Arrays.toString(layersPerBlock)
                + ", heads=" + Arrays.toString(heads) + ", crossAttentionDim=" + crossAttentionDim
                + ", groups=" + normGroups + ", linearProjection=" + linearProjection + "]";
    }
}
