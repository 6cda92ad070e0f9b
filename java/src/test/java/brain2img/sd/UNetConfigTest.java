package brain2img.sd;

import brain2img.io.FormatException;
import brain2img.io.Json;
import brain2img.testing.Shared;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Config parsing, the published SD v1 sizes (parameters, FLOPs) and rejection of unsupported options. */
class UNetConfigTest {
    private static UNetConfig v1() {
        return UNetConfig.parse(SdSource.defaultConfig("unet", "config.json"), "built-in v1");
    }

    @Test
    void attentionHeadDimMeansHeadsInSdV1() {
        UNetConfig cfg = v1();
        // attention_head_dim 8 with num_attention_heads null: 8 heads of 40/80/160, not heads of size 8
        assertArrayEquals(new int[]{8, 8, 8, 8}, cfg.heads());
        assertArrayEquals(new int[]{320, 640, 1280, 1280}, cfg.blockOutChannels());
        assertArrayEquals(new boolean[]{true, true, true, false}, cfg.downAttention());
        assertArrayEquals(new boolean[]{false, true, true, true}, cfg.upAttention());
        assertEquals(768, cfg.crossAttentionDim());
        assertEquals(1280, cfg.timeEmbedDim());
        assertEquals(8, cfg.sizeMultiple());
    }

    @Test
    void tinyGoldenConfigParses() {
        UNetConfig cfg = UNetConfig.parse(Json.read(Shared.sdTiny().resolve("weights/unet/config.json")), "tiny");
        assertArrayEquals(new int[]{32, 64, 64, 64}, cfg.blockOutChannels());
        assertArrayEquals(new int[]{8, 8, 8, 8}, cfg.heads());
        assertEquals(32, cfg.crossAttentionDim());
        assertFalse(cfg.linearProjection());
    }

    @Test
    void sdV1HasThePublishedParameterCount() {
        long n = 0;
        for (long[] s : UNet.parameterShapes(v1()).values()) {
            long p = 1;
            for (long d : s) p *= d;
            n += p;
        }
        assertEquals(859_520_964L, n);
    }

    @Test
    void sdV1StepAt64x64Is803Gflop() {
        UNetFlops.Count c = UNetFlops.of(v1(), 64, 64, 77);
        assertEquals(803e9, c.total(), 0.5e9, "GFLOP per step");
        double share = (double) c.attention() / c.total();
        assertTrue(share > 0.15 && share < 0.17, "attention products share " + share + ", published about 16%");
    }

    @Test
    void numAttentionHeadsWinsWhenGiven() {
        ObjectNode c = (ObjectNode) SdSource.defaultConfig("unet", "config.json").deepCopy();
        c.putArray("num_attention_heads").add(5).add(10).add(20).add(20);
        assertArrayEquals(new int[]{5, 10, 20, 20}, UNetConfig.parse(c, "v2-like").heads());
    }

    @Test
    void rejectsUnsupportedOptionsByName() {
        for (String[] kv : new String[][]{{"class_embed_type", "timestep"}, {"addition_embed_type", "text_time"},
                {"resnet_time_scale_shift", "scale_shift"}, {"mid_block_type", "UNetMidBlock2DSimpleCrossAttn"}}) {
            ObjectNode c = (ObjectNode) SdSource.defaultConfig("unet", "config.json").deepCopy();
            c.put(kv[0], kv[1]);
            FormatException e = assertThrows(FormatException.class, () -> UNetConfig.parse(c, "cfg.json"));
            assertTrue(e.getMessage().contains("cfg.json") && e.getMessage().contains(kv[0]), e.getMessage());
        }
        ObjectNode c = (ObjectNode) SdSource.defaultConfig("unet", "config.json").deepCopy();
        c.putArray("down_block_types").add("CrossAttnDownBlock2D").add("DownBlock2D");
        FormatException e = assertThrows(FormatException.class, () -> UNetConfig.parse(c, "cfg.json"));
        assertTrue(e.getMessage().contains("down_block_types"), e.getMessage());
    }

    @Test
    void inputChecksNameTheProblem() {
        UNetConfig cfg = v1();
        cfg.checkLatent(new long[]{2, 4, 64, 48});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cfg.checkLatent(new long[]{1, 4, 60, 64}));
        assertTrue(e.getMessage().contains("multiples of 8"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> cfg.checkLatent(new long[]{1, 3, 64, 64}));
        assertThrows(IllegalArgumentException.class, () -> cfg.checkContext(new long[]{2, 77, 1024}, 2));
        assertThrows(IllegalArgumentException.class, () -> cfg.checkContext(new long[]{1, 77, 768}, 2));
        assertThrows(IllegalArgumentException.class, () -> UNetConfig.checkTimesteps(3, 2));
    }
}
