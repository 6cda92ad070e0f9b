package brain2img.sd;

import brain2img.io.Json;
import brain2img.io.WeightFile;
import brain2img.testing.Shared;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The original → diffusers U-Net key table. */
class UNetKeysTest {
    private static final UNetKeys V1 = new UNetKeys(UNetConfig.parse(SdSource.defaultConfig("unet", "config.json"), "v1"));

    @Test
    void sdV1TableEntriesFromTheFactsSheet() {
        Map<String, String> expect = Map.ofEntries(
                Map.entry("input_blocks.0.0.weight", "conv_in.weight"),
                Map.entry("time_embed.0.weight", "time_embedding.linear_1.weight"),
                Map.entry("time_embed.2.bias", "time_embedding.linear_2.bias"),
                Map.entry("input_blocks.4.0.in_layers.2.weight", "down_blocks.1.resnets.0.conv1.weight"),
                Map.entry("input_blocks.4.0.skip_connection.bias", "down_blocks.1.resnets.0.conv_shortcut.bias"),
                Map.entry("input_blocks.5.1.transformer_blocks.0.attn2.to_k.weight", "down_blocks.1.attentions.1.transformer_blocks.0.attn2.to_k.weight"),
                Map.entry("input_blocks.6.0.op.weight", "down_blocks.1.downsamplers.0.conv.weight"),
                Map.entry("input_blocks.11.0.emb_layers.1.weight", "down_blocks.3.resnets.1.time_emb_proj.weight"),
                Map.entry("middle_block.1.proj_in.weight", "mid_block.attentions.0.proj_in.weight"),
                Map.entry("middle_block.2.out_layers.3.weight", "mid_block.resnets.1.conv2.weight"),
                Map.entry("output_blocks.2.1.conv.weight", "up_blocks.0.upsamplers.0.conv.weight"),
                Map.entry("output_blocks.5.2.conv.bias", "up_blocks.1.upsamplers.0.conv.bias"),
                Map.entry("output_blocks.8.2.conv.weight", "up_blocks.2.upsamplers.0.conv.weight"),
                Map.entry("output_blocks.11.1.norm.weight", "up_blocks.3.attentions.2.norm.weight"),
                Map.entry("output_blocks.9.0.out_layers.0.bias", "up_blocks.3.resnets.0.norm2.bias"),
                Map.entry("out.0.weight", "conv_norm_out.weight"),
                Map.entry("out.2.bias", "conv_out.bias"));
        expect.forEach((orig, diff) -> assertEquals(diff, V1.toDiffusers(orig), orig));
    }

    @Test
    void unknownKeysAreIgnored() {
        assertNull(V1.toDiffusers("model_ema.decay"));
        assertNull(V1.toDiffusers("input_blocks.12.0.in_layers.0.weight"));   // past the last input block
        assertNull(V1.toDiffusers("input_blocks.1.0.unknown.weight"));
    }

    /** Every U-Net tensor of the single file lands on a distinct diffusers name holding the same shape. */
    @Test
    void tinySingleFileMapsOneToOneOntoTheDiffusersFile() {
        Path tiny = Shared.sdTiny();
        UNetKeys keys = new UNetKeys(UNetConfig.parse(Json.read(tiny.resolve("weights/unet/config.json")), "tiny"));
        try (WeightFile single = WeightFile.open(tiny.resolve("single-file.safetensors"));
             WeightFile diffusers = WeightFile.open(tiny.resolve("weights/unet"))) {
            Map<String, String> seen = new HashMap<>();
            String prefix = "model.diffusion_model.";
            for (String k : single.names()) {
                if (!k.startsWith(prefix)) continue;
                String d = keys.toDiffusers(k.substring(prefix.length()));
                assertNotNull(d, "no mapping for " + k);
                assertTrue(diffusers.contains(d), k + " -> " + d + " not in the diffusers file");
                assertNull(seen.put(d, k), d + " mapped twice");
                assertArrayEquals(diffusers.entry(d).shape(), single.entry(k).shape(), k + " -> " + d);
            }
            assertEquals(diffusers.names().size(), seen.size(), "every diffusers tensor has an original key");
        }
    }
}
