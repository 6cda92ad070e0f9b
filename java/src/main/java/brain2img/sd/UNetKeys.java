package brain2img.sd;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Original CompVis U-Net keys ({@code model.diffusion_model.} already removed) → diffusers names, derived from
 * the config's levels and ResNets per level.
 *
 * <p>The original layout numbers blocks sequentially: {@code input_blocks.0} is conv_in, then per level its
 * ResNets (each {@code .0}, followed by {@code .1} when the level has attention) and, except on the last level,
 * a downsampler ({@code .0.op}); {@code output_blocks} likewise per up level, with the upsampler as the last
 * module of the last block of that level. ResNet sub-layers are renamed; spatial transformers keep their
 * inner names. Keys outside the table (EMA copies, buffers) map to null and are ignored.
 */
public final class UNetKeys implements KeyMapping {
    private enum Kind { RESNET, SAME }

    private record Target(String prefix, Kind kind) {}

    /** ResNet sub-layers: original → diffusers. */
    private static final Map<String, String> RESNET = Map.of(
            "in_layers.0.", "norm1.", "in_layers.2.", "conv1.",
            "emb_layers.1.", "time_emb_proj.",
            "out_layers.0.", "norm2.", "out_layers.3.", "conv2.",
            "skip_connection.", "conv_shortcut.");

    /** Block prefix (ending in '.') → diffusers prefix, e.g. {@code input_blocks.4.1.} → {@code down_blocks.1.attentions.0.}. */
    private final Map<String, Target> blocks = new LinkedHashMap<>();

    public UNetKeys(UNetConfig cfg) {
        put("time_embed.0.", "time_embedding.linear_1.", Kind.SAME);
        put("time_embed.2.", "time_embedding.linear_2.", Kind.SAME);
        put("input_blocks.0.0.", "conv_in.", Kind.SAME);
        put("out.0.", "conv_norm_out.", Kind.SAME);
        put("out.2.", "conv_out.", Kind.SAME);
        int levels = cfg.levels();
        int in = 1;
        for (int i = 0; i < levels; i++) {
            for (int j = 0; j < cfg.layersPerBlock()[i]; j++, in++) {
                put("input_blocks." + in + ".0.", "down_blocks." + i + ".resnets." + j + ".", Kind.RESNET);
                if (cfg.downAttention()[i]) put("input_blocks." + in + ".1.", "down_blocks." + i + ".attentions." + j + ".", Kind.SAME);
            }
            if (i < levels - 1) put("input_blocks." + in++ + ".0.op.", "down_blocks." + i + ".downsamplers.0.conv.", Kind.SAME);
        }
        put("middle_block.0.", "mid_block.resnets.0.", Kind.RESNET);
        put("middle_block.1.", "mid_block.attentions.0.", Kind.SAME);
        put("middle_block.2.", "mid_block.resnets.1.", Kind.RESNET);
        int out = 0;
        for (int i = 0; i < levels; i++) {
            int level = levels - 1 - i;
            int n = cfg.layersPerBlock()[level] + 1;
            for (int j = 0; j < n; j++, out++) {
                put("output_blocks." + out + ".0.", "up_blocks." + i + ".resnets." + j + ".", Kind.RESNET);
                if (cfg.upAttention()[i]) put("output_blocks." + out + ".1.", "up_blocks." + i + ".attentions." + j + ".", Kind.SAME);
            }
            if (i < levels - 1) {
                int sub = cfg.upAttention()[i] ? 2 : 1;
                put("output_blocks." + (out - 1) + "." + sub + ".conv.", "up_blocks." + i + ".upsamplers.0.conv.", Kind.SAME);
            }
        }
    }

    private void put(String original, String diffusers, Kind kind) {
        blocks.put(original, new Target(diffusers, kind));
    }

    @Override
    public String toDiffusers(String key) {
        // The longest matching prefix wins: "input_blocks.3.0.op." over a shorter "input_blocks.3.0." if both existed.
        String best = null;
        for (String p : blocks.keySet()) {
            if (key.startsWith(p) && (best == null || p.length() > best.length())) best = p;
        }
        if (best == null) return null;
        Target t = blocks.get(best);
        String rest = key.substring(best.length());
        if (t.kind == Kind.SAME) return t.prefix + rest;
        for (var e : RESNET.entrySet()) {
            if (rest.startsWith(e.getKey())) return t.prefix + e.getValue() + rest.substring(e.getKey().length());
        }
        return null;
    }
}
