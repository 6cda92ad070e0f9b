package brain2img.sd;

import brain2img.io.FormatException;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.Arrays;

/**
 * The hyper-parameters of a diffusers {@code AutoencoderKL} ({@code vae/config.json}) that shapes cannot tell.
 * Only the SD v1 architecture is supported: {@code DownEncoderBlock2D}/{@code UpDecoderBlock2D} levels, SiLU,
 * a mid block with one single-head attention, and an encoder that outputs mean and log-variance (double_z).
 *
 * @param blockOutChannels channel width per level, highest resolution first (SD v1: 128, 256, 512, 512)
 * @param layersPerBlock   ResNet blocks per encoder level; the decoder has one more per level
 * @param scalingFactor    latents are multiplied by it after encoding and divided by it before decoding
 */
public record VaeConfig(int inChannels, int outChannels, int latentChannels, int[] blockOutChannels,
                        int layersPerBlock, int normNumGroups, float scalingFactor) {

    /** GroupNorm epsilon everywhere in the SD VAE (diffusers hard-codes 1e-6 for this model). */
    public static final float NORM_EPS = 1e-6f;

    public VaeConfig {
        if (blockOutChannels.length == 0) throw new FormatException("vae config: block_out_channels is empty");
        for (int c : blockOutChannels) {
            if (c <= 0 || c % normNumGroups != 0) {
                throw new FormatException("vae config: block_out_channels " + Arrays.toString(blockOutChannels)
                        + " must be positive multiples of norm_num_groups " + normNumGroups);
            }
        }
        if (layersPerBlock < 1) throw new FormatException("vae config: layers_per_block must be ≥ 1, got " + layersPerBlock);
        if (!(scalingFactor > 0)) throw new FormatException("vae config: scaling_factor must be > 0, got " + scalingFactor);
        blockOutChannels = blockOutChannels.clone();
    }

    @Override
    public int[] blockOutChannels() { return blockOutChannels.clone(); }

    public int levels() { return blockOutChannels.length; }

    public int channels(int level) { return blockOutChannels[level]; }

    /** Spatial reduction between image and latent: 2^(levels−1) (8 for SD v1). */
    public int downFactor() { return 1 << (levels() - 1); }

    public static VaeConfig from(JsonNode c) {
        String act = text(c, "act_fn", "silu");
        if (!act.equals("silu")) throw new FormatException("vae config: act_fn '" + act + "' is not supported (only silu)");
        int[] widths = ints(c, "block_out_channels", new int[]{128, 256, 512, 512});
        checkBlockTypes(c, "down_block_types", "DownEncoderBlock2D", widths.length);
        checkBlockTypes(c, "up_block_types", "UpDecoderBlock2D", widths.length);
        return new VaeConfig(
                c.path("in_channels").asInt(3),
                c.path("out_channels").asInt(3),
                c.path("latent_channels").asInt(4),
                widths,
                c.path("layers_per_block").asInt(2),
                c.path("norm_num_groups").asInt(32),
                (float) c.path("scaling_factor").asDouble(0.18215));
    }

    private static void checkBlockTypes(JsonNode c, String key, String expected, int levels) {
        JsonNode types = c.get(key);
        if (types == null) return;
        if (types.size() != levels) {
            throw new FormatException("vae config: " + key + " has " + types.size() + " entries but block_out_channels has " + levels);
        }
        for (JsonNode t : types) {
            if (!t.asText().equals(expected)) {
                throw new FormatException("vae config: " + key + " entry '" + t.asText() + "' is not supported (only " + expected + ")");
            }
        }
    }

    private static String text(JsonNode c, String key, String dflt) {
        JsonNode n = c.get(key);
        return n == null || n.isNull() ? dflt : n.asText();
    }

    private static int[] ints(JsonNode c, String key, int[] dflt) {
        JsonNode n = c.get(key);
        if (n == null || n.isNull()) return dflt;
        if (!n.isArray()) throw new FormatException("vae config: " + key + " must be a list of integers");
        int[] out = new int[n.size()];
        for (int i = 0; i < out.length; i++) out[i] = n.get(i).asInt();
        return out;
    }
}
