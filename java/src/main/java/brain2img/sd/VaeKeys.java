package brain2img.sd;

import brain2img.tensor.Tensor;

import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The VAE's one mapping table: original CompVis keys ({@code first_stage_model.} already stripped) to diffusers
 * names, plus the names of older diffusers files.
 * <ul>
 *   <li>{@code encoder.down.i.block.j} → {@code encoder.down_blocks.i.resnets.j}, {@code down.i.downsample} →
 *       {@code down_blocks.i.downsamplers.0};</li>
 *   <li>{@code decoder.up.k.block.j} → {@code decoder.up_blocks.(L−1−k).resnets.j} (CompVis numbers decoder
 *       levels from the highest resolution, diffusers in the order they run), likewise {@code upsample};</li>
 *   <li>{@code mid.block_1/2} → {@code mid_block.resnets.0/1}; {@code mid.attn_1.norm/q/k/v/proj_out} →
 *       {@code mid_block.attentions.0.group_norm/to_q/to_k/to_v/to_out.0}, whose weights are stored as 1×1
 *       convolutions [C,C,1,1] and are read as linear [C,C] views;</li>
 *   <li>{@code nin_shortcut} → {@code conv_shortcut}, {@code norm_out} → {@code conv_norm_out}.</li>
 * </ul>
 * Keys it does not know (there are none in SD v1 files besides the VAE's own) map to null and are ignored.
 */
public final class VaeKeys implements KeyMapping {
    private static final Pattern DOWN = Pattern.compile("encoder\\.down\\.(\\d+)\\.(block\\.(\\d+)|downsample)\\.(.+)");
    private static final Pattern UP = Pattern.compile("decoder\\.up\\.(\\d+)\\.(block\\.(\\d+)|upsample)\\.(.+)");
    private static final Pattern MID = Pattern.compile("(encoder|decoder)\\.mid\\.(block_1|block_2|attn_1)\\.(\\w+)\\.(weight|bias)");
    private static final Pattern TOP = Pattern.compile("(encoder|decoder)\\.(conv_in|conv_out|norm_out)\\.(weight|bias)|(post_)?quant_conv\\.(weight|bias)");
    private static final Pattern ATTN_CONV_WEIGHT = Pattern.compile("(encoder|decoder)\\.mid\\.attn_1\\.(q|k|v|proj_out)\\.weight");

    private static final Map<String, String> ATTN = Map.of(
            "norm", "group_norm", "q", "to_q", "k", "to_k", "v", "to_v", "proj_out", "to_out.0");
    /** diffusers name → the name used by diffusers files written before 0.14. */
    private static final Map<String, String> LEGACY = Map.of(
            "to_q", "query", "to_k", "key", "to_v", "value", "to_out.0", "proj_attn");

    private final int levels;

    /** @param levels the number of VAE levels (length of block_out_channels), to reverse the decoder order */
    public VaeKeys(int levels) {
        this.levels = levels;
    }

    /** The VAE tensors of a checkpoint in either layout under current diffusers names. */
    public static TensorSource open(SdSource src, VaeConfig cfg) {
        TensorSource ts = src.component(SdSource.VAE, new VaeKeys(cfg.levels()));
        return src.layout() == SdSource.Layout.DIFFUSERS ? new WithLegacyNames(ts) : ts;
    }

    @Override
    public String toDiffusers(String k) {
        Matcher m;
        if ((m = TOP.matcher(k)).matches()) return k.replace("norm_out", "conv_norm_out");
        if ((m = DOWN.matcher(k)).matches()) {
            String block = m.group(3) != null ? "resnets." + m.group(3) : "downsamplers.0";
            return "encoder.down_blocks." + m.group(1) + "." + block + "." + resnetPart(m.group(4));
        }
        if ((m = UP.matcher(k)).matches()) {
            int level = levels - 1 - Integer.parseInt(m.group(1));
            if (level < 0) return null;
            String block = m.group(3) != null ? "resnets." + m.group(3) : "upsamplers.0";
            return "decoder.up_blocks." + level + "." + block + "." + resnetPart(m.group(4));
        }
        if ((m = MID.matcher(k)).matches()) {
            String base = m.group(1) + ".mid_block.";
            String leaf = m.group(3) + "." + m.group(4);
            return switch (m.group(2)) {
                case "block_1" -> base + "resnets.0." + resnetPart(leaf);
                case "block_2" -> base + "resnets.1." + resnetPart(leaf);
                default -> ATTN.containsKey(m.group(3)) ? base + "attentions.0." + ATTN.get(m.group(3)) + "." + m.group(4) : null;
            };
        }
        return null;
    }

    /** Attention projections stored as 1×1 convolutions [C,C,1,1] are seen as linear weights [C,C]. */
    @Override
    public long[] viewShape(String k, long[] stored) {
        if (ATTN_CONV_WEIGHT.matcher(k).matches() && stored.length == 4 && stored[2] == 1 && stored[3] == 1) {
            return new long[]{stored[0], stored[1]};
        }
        return stored;
    }

    private static String resnetPart(String rest) {
        return rest.startsWith("nin_shortcut.") ? "conv_shortcut." + rest.substring("nin_shortcut.".length()) : rest;
    }

    /** A diffusers VAE file that may use the pre-0.14 attention names query/key/value/proj_attn. */
    private record WithLegacyNames(TensorSource inner) implements TensorSource {
        public String describe() { return inner.describe(); }

        public Set<String> names() {
            Set<String> out = new LinkedHashSet<>();
            for (String n : inner.names()) out.add(current(n));
            return out;
        }

        public boolean contains(String name) { return inner.contains(resolve(name)); }

        public Tensor get(String name) { return inner.get(resolve(name)); }

        /** The stored name for a current one: itself when present, else its legacy spelling when that is. */
        private String resolve(String name) {
            if (inner.contains(name)) return name;
            for (var e : LEGACY.entrySet()) {
                String now = ".attentions.0." + e.getKey() + ".";
                if (name.contains(now)) {
                    String old = name.replace(now, ".attentions.0." + e.getValue() + ".");
                    if (inner.contains(old)) return old;
                }
            }
            return name;
        }

        private static String current(String stored) {
            for (var e : LEGACY.entrySet()) {
                String old = ".attentions.0." + e.getValue() + ".";
                if (stored.contains(old)) return stored.replace(old, ".attentions.0." + e.getKey() + ".");
            }
            return stored;
        }
    }
}
