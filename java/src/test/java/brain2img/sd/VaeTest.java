package brain2img.sd;

import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.io.FormatException;
import brain2img.io.Npy;
import brain2img.io.SafeTensors;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import brain2img.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static brain2img.testing.Assert.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The VAE against diffusers' AutoencoderKL on the sd-tiny goldens, from both checkpoint layouts. */
class VaeTest {
    static final Backend CPU = new CpuBackend();

    /** Opens sd-tiny in the given layout (a single file takes its configs from weights/, as --config would). */
    static SdSource open(SdSource.Layout layout) {
        Path tiny = Shared.sdTiny();
        return layout == SdSource.Layout.DIFFUSERS
                ? SdSource.open(tiny.resolve("weights"), null)
                : SdSource.open(tiny.resolve("single-file.safetensors"), tiny.resolve("weights"));
    }

    static Tensor golden(String name) {
        return Npy.read(Shared.sdTiny().resolve("cases").resolve(name + ".npy"));
    }

    @ParameterizedTest
    @EnumSource(SdSource.Layout.class)
    void encoderMatchesDiffusers(SdSource.Layout layout) {
        try (SdSource src = open(layout)) {
            Vae vae = Vae.load(src, CPU);
            Vae.Posterior p = vae.encode(golden("vae_in_image"));
            assertClose(golden("vae_out_mean"), p.mean(), 1e-4, layout + " vae_out_mean");
            assertClose(golden("vae_out_logvar"), p.logvar(), 1e-4, layout + " vae_out_logvar");
        }
    }

    @ParameterizedTest
    @EnumSource(SdSource.Layout.class)
    void decoderMatchesDiffusers(SdSource.Layout layout) {
        try (SdSource src = open(layout)) {
            Vae vae = Vae.load(src, CPU);
            assertEquals(0.18215f, vae.scalingFactor());
            assertClose(golden("vae_out_decoded"), vae.decode(golden("vae_in_latent")), 1e-4, layout + " vae_out_decoded");
        }
    }

    /** Every diffusers tensor is found in the single file under the mapping, with equal shape and values. */
    @Test
    void singleFileMapsOntoEveryDiffusersTensor() {
        try (SdSource diffusers = open(SdSource.Layout.DIFFUSERS); SdSource single = open(SdSource.Layout.SINGLE_FILE)) {
            VaeConfig cfg = VaeConfig.from(diffusers.config(SdSource.VAE));
            TensorSource d = VaeKeys.open(diffusers, cfg), s = VaeKeys.open(single, cfg);
            assertEquals(d.names(), s.names());
            for (String name : d.names()) {
                Tensor a = d.get(name), b = s.get(name);
                assertArrayEquals(a.shape(), b.shape(), name);
                assertArrayEquals(a.toFloatArray(), b.toFloatArray(), name);
            }
        }
    }

    @Test
    void mappingTable() {
        VaeKeys k = new VaeKeys(4);
        assertEquals("decoder.up_blocks.3.resnets.2.conv1.weight", k.toDiffusers("decoder.up.0.block.2.conv1.weight"));
        assertEquals("decoder.up_blocks.2.resnets.0.conv_shortcut.bias", k.toDiffusers("decoder.up.1.block.0.nin_shortcut.bias"));
        assertEquals("decoder.up_blocks.0.upsamplers.0.conv.weight", k.toDiffusers("decoder.up.3.upsample.conv.weight"));
        assertEquals("encoder.down_blocks.1.downsamplers.0.conv.bias", k.toDiffusers("encoder.down.1.downsample.conv.bias"));
        assertEquals("encoder.mid_block.resnets.1.norm2.weight", k.toDiffusers("encoder.mid.block_2.norm2.weight"));
        assertEquals("decoder.mid_block.attentions.0.to_out.0.weight", k.toDiffusers("decoder.mid.attn_1.proj_out.weight"));
        assertEquals("decoder.mid_block.attentions.0.group_norm.bias", k.toDiffusers("decoder.mid.attn_1.norm.bias"));
        assertEquals("encoder.conv_norm_out.weight", k.toDiffusers("encoder.norm_out.weight"));
        assertEquals("post_quant_conv.bias", k.toDiffusers("post_quant_conv.bias"));
        assertEquals(null, k.toDiffusers("model_ema.decay"));
        assertArrayEquals(new long[]{512, 512}, k.viewShape("encoder.mid.attn_1.q.weight", new long[]{512, 512, 1, 1}));
        assertArrayEquals(new long[]{512, 512, 1, 1}, k.viewShape("encoder.conv_out.weight", new long[]{512, 512, 1, 1}));
    }

    /** A diffusers file written before 0.14 (query/key/value/proj_attn) decodes exactly like the current names. */
    @Test
    void legacyAttentionNames(@TempDir Path tmp) throws IOException {
        Path tiny = Shared.sdTiny();
        Map<String, Tensor> renamed = new LinkedHashMap<>();
        try (SafeTensors st = SafeTensors.open(tiny.resolve("weights/vae/diffusion_pytorch_model.safetensors"))) {
            for (String n : st.names()) {
                String old = n.replace(".to_q.", ".query.").replace(".to_k.", ".key.")
                        .replace(".to_v.", ".value.").replace(".to_out.0.", ".proj_attn.");
                renamed.put(old, st.getF32(n).copy());
            }
        }
        assertTrue(renamed.containsKey("decoder.mid_block.attentions.0.proj_attn.weight"));
        Path dir = writeVaeFolder(tmp, renamed);
        try (SdSource src = SdSource.open(dir, null)) {
            assertClose(golden("vae_out_decoded"), Vae.load(src, CPU).decode(golden("vae_in_latent")), 1e-4, "legacy names");
        }
    }

    /** Half-precision weight files load (converted to f32 on read); f16 rounding keeps the result near. */
    @Test
    void halfPrecisionWeights(@TempDir Path tmp) throws IOException {
        Map<String, Tensor> half = new LinkedHashMap<>();
        try (SafeTensors st = SafeTensors.open(Shared.sdTiny().resolve("weights/vae/diffusion_pytorch_model.safetensors"))) {
            for (String n : st.names()) half.put(n, st.getF32(n).to(DType.F16));
        }
        try (SdSource src = SdSource.open(writeVaeFolder(tmp, half), null)) {
            assertClose(golden("vae_out_decoded"), Vae.load(src, CPU).decode(golden("vae_in_latent")), 1e-2, "f16 weights");
        }
    }

    @Test
    void missingAndMisShapedKeysAreNamed(@TempDir Path tmp) throws IOException {
        Map<String, Tensor> all = new LinkedHashMap<>();
        try (SafeTensors st = SafeTensors.open(Shared.sdTiny().resolve("weights/vae/diffusion_pytorch_model.safetensors"))) {
            for (String n : st.names()) all.put(n, st.getF32(n).copy());
        }
        Map<String, Tensor> missing = new LinkedHashMap<>(all);
        missing.remove("decoder.up_blocks.2.resnets.0.conv_shortcut.weight");
        try (SdSource src = SdSource.open(writeVaeFolder(tmp.resolve("a"), missing), null)) {
            var e = assertThrows(FormatException.class, () -> Vae.load(src, CPU));
            assertTrue(e.getMessage().contains("decoder.up_blocks.2.resnets.0.conv_shortcut.weight"), e.getMessage());
        }
        Map<String, Tensor> misShaped = new LinkedHashMap<>(all);
        misShaped.put("encoder.conv_in.weight", Tensor.zeros(32, 3, 1, 1));
        try (SdSource src = SdSource.open(writeVaeFolder(tmp.resolve("b"), misShaped), null)) {
            var e = assertThrows(FormatException.class, () -> Vae.load(src, CPU));
            assertTrue(e.getMessage().contains("encoder.conv_in.weight") && e.getMessage().contains("[32, 3, 3, 3]"), e.getMessage());
        }
    }

    /** Without --config a tiny single file meets the built-in SD v1 shapes: the error names key, shapes and the fix. */
    @Test
    void singleFileWithoutConfigSaysWhereShapesComeFrom() {
        try (SdSource src = SdSource.open(Shared.sdTiny().resolve("single-file.safetensors"), null)) {
            var e = assertThrows(FormatException.class, () -> Vae.load(src, CPU));
            assertTrue(e.getMessage().contains("'encoder.conv_in.weight' has shape [32, 3, 3, 3], expected [128, 3, 3, 3]")
                    && e.getMessage().contains("--config"), e.getMessage());
        }
    }

    @Test
    void badInputShapesAreRejectedBeforeCompute() {
        try (SdSource src = open(SdSource.Layout.DIFFUSERS)) {
            Vae vae = Vae.load(src, CPU);
            var e = assertThrows(IllegalArgumentException.class, () -> vae.encode(Tensor.zeros(1, 3, 60, 64)));
            assertTrue(e.getMessage().contains("multiples of 8"), e.getMessage());
            var latent = assertThrows(IllegalArgumentException.class, () -> vae.decode(Tensor.zeros(1, 3, 8, 8)));
            assertEquals("VAE latent must be (B,4,H,W), got f32[1, 3, 8, 8]", latent.getMessage());
        }
    }

    /** A diffusers folder holding only vae/ with the sd-tiny config and the given tensors. */
    private static Path writeVaeFolder(Path root, Map<String, Tensor> tensors) throws IOException {
        Path vae = Files.createDirectories(root.resolve("vae"));
        Files.copy(Shared.sdTiny().resolve("weights/vae/config.json"), vae.resolve("config.json"));
        SafeTensors.write(vae.resolve("diffusion_pytorch_model.safetensors"), tensors, Map.of());
        return root;
    }
}
