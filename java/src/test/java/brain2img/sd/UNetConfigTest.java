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
        cfg.checkLatent(new long[]{1, 4, 60, 45});      // any size, as diffusers (sides not halving evenly)
        cfg.checkLatent(new long[]{1, 4, 1, 1});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cfg.checkLatent(new long[]{1, 4, 0, 64}));
        assertTrue(e.getMessage().contains("h, w ≥ 1") && e.getMessage().contains("[1, 4, 0, 64]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> cfg.checkLatent(new long[]{1, 3, 64, 64}));
        assertTrue(e.getMessage().contains("(B,4,h,w)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> cfg.checkContext(new long[]{2, 77, 1024}, 2));
        assertTrue(e.getMessage().contains("(2,S,768)") && e.getMessage().contains("[2, 77, 1024]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> cfg.checkContext(new long[]{1, 77, 768}, 2));
        assertTrue(e.getMessage().contains("batch of 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> UNetConfig.checkTimesteps(3, 2));
        assertTrue(e.getMessage().contains("3"), e.getMessage());
    }

    @Test
    void downsamplerSidesFollowTheStride2ConvArithmetic() {
        UNetConfig cfg = v1();                           // downsample_padding 1: out = ⌊(n + 2 − 3)/2⌋ + 1
        for (int n = 1; n <= 70; n++) assertEquals((n + 2 - 3) / 2 + 1, cfg.downsampled(n), "side " + n);
        assertEquals(1, cfg.minSide());
        ObjectNode c = (ObjectNode) SdSource.defaultConfig("unet", "config.json").deepCopy();
        c.put("downsample_padding", 0);                  // pad (0,1) then a valid conv: out = ⌊(n + 1 − 3)/2⌋ + 1
        UNetConfig p0 = UNetConfig.parse(c, "cfg.json");
        for (int n = 2; n <= 70; n++) assertEquals((n + 1 - 3) / 2 + 1, p0.downsampled(n), "side " + n);
        assertEquals(0, p0.downsampled(1));
        assertEquals(8, p0.minSide());                   // 8 → 4 → 2 → 1, while 7 → 3 → 1 → 0
        p0.checkLatent(new long[]{1, 4, 8, 9});
        var e = assertThrows(IllegalArgumentException.class, () -> p0.checkLatent(new long[]{1, 4, 7, 64}));
        assertTrue(e.getMessage().contains("h, w ≥ 8"), e.getMessage());
    }
}
