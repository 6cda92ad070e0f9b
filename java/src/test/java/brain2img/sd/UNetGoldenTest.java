package brain2img.sd;

import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.io.Npy;
import brain2img.tensor.Tensor;
import brain2img.testing.Assert;
import brain2img.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import brain2img.io.SafeTensors;
import brain2img.io.WeightFile;
import brain2img.io.Json;
import brain2img.tensor.DType;
import brain2img.tensor.Half;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** The tiny SD-v1-shaped U-Net against diffusers 0.21.4 outputs, from both checkpoint layouts. */
class UNetGoldenTest {
    private final Backend be = new CpuBackend();

    private void checkGolden(Path weights, Path config) {
        Path cases = Shared.sdTiny().resolve("cases");
        Tensor latent = Npy.read(cases.resolve("unet_in_latent.npy"));
        float[] t = Npy.read(cases.resolve("unet_in_timesteps.npy")).toFloatArray();
        Tensor context = Npy.read(cases.resolve("unet_in_context.npy"));
        try (SdSource src = SdSource.open(weights, config)) {
            UNet unet = UNet.load(src, be);
            Tensor eps = be.download(unet.predict(be.upload(latent), t, be.upload(context)));
            Assert.assertClose(Npy.read(cases.resolve("unet_out_eps.npy")), eps, 1e-4, "unet_out_eps (" + src.layout() + ")");
        }
    }

    /**
     * Latents whose sides do not halve evenly through the three downsamplers (5×7, 6×10, 12×9: diffusers goes
     * 5 → 3 → 2 → 1 and back by resizing each up level to its skip's size) against diffusers 0.21.4.
     */
    @ParameterizedTest
    @ValueSource(strings = {"5x7", "6x10", "12x9"})
    void anySizeLatentMatchesReference(String size) {
        Path cases = Shared.require("golden/sd-tiny/cases-anysize");
        Tensor latent = Npy.read(cases.resolve("unet_in_latent_" + size + ".npy"));
        float[] t = Npy.read(cases.resolve("unet_in_timesteps_" + size + ".npy")).toFloatArray();
        Tensor context = Npy.read(cases.resolve("unet_in_context_" + size + ".npy"));
        try (SdSource src = SdSource.open(Shared.sdTiny().resolve("weights"), null)) {
            Tensor eps = be.download(UNet.load(src, be).predict(be.upload(latent), t, be.upload(context)));
            Tensor ref = Npy.read(cases.resolve("unet_out_eps_" + size + ".npy"));
            System.out.printf("unet_out_eps_%s: relative error %.1e%n", size, Assert.relErr(eps.toFloatArray(), ref.toFloatArray()));
            Assert.assertClose(ref, eps, 1e-4, "unet_out_eps_" + size);
        }
    }

    @Test
    void diffusersFolderMatchesReference() {
        checkGolden(Shared.sdTiny().resolve("weights"), null);
    }

    /**
     * Half-precision files load too: the tiny weights stored as f16 and as bf16 (diffusers layout, temp folder)
     * give exactly what the f32 network gives with its weights rounded the same way, and f16 stays within the
     * half-precision bound of the reference.
     */
    @Test
    void halfPrecisionWeightFilesLoad(@TempDir Path tmp) throws IOException {
        Path tiny = Shared.sdTiny();
        Path cases = tiny.resolve("cases");
        Tensor latent = Npy.read(cases.resolve("unet_in_latent.npy")), context = Npy.read(cases.resolve("unet_in_context.npy"));
        float[] t = Npy.read(cases.resolve("unet_in_timesteps.npy")).toFloatArray();
        UNetConfig cfg = UNetConfig.parse(Json.read(tiny.resolve("weights/unet/config.json")), "tiny");
        for (DType half : new DType[]{DType.F16, DType.BF16}) {
            Path dir = tmp.resolve(half.lower());
            Files.createDirectories(dir.resolve("unet"));
            Files.copy(tiny.resolve("weights/unet/config.json"), dir.resolve("unet/config.json"));
            Map<String, Tensor> stored = new LinkedHashMap<>(), rounded = new LinkedHashMap<>();
            try (WeightFile w = WeightFile.open(tiny.resolve("weights/unet"))) {
                for (String n : w.names()) {
                    Tensor h = toHalf(w.getF32(n), half);
                    stored.put(n, h);
                    rounded.put(n, h.to(DType.F32));
                }
            }
            SafeTensors.write(dir.resolve("unet/diffusion_pytorch_model.safetensors"), stored, Map.of());
            Tensor expected = UNet.build(cfg, new InMemory(rounded), be).predict(latent, t, context);
            try (SdSource src = SdSource.open(dir, null)) {
                Tensor eps = UNet.load(src, be).predict(latent, t, context);
                Assert.assertClose(expected, eps, 0, half + " file vs rounded f32 weights");
                if (half == DType.F16) Assert.assertClose(Npy.read(cases.resolve("unet_out_eps.npy")), eps, 1e-2, "f16 vs reference");
            }
        }
    }

    private static Tensor toHalf(Tensor f32, DType half) {
        float[] v = f32.toFloatArray();
        short[] h = new short[v.length];
        for (int i = 0; i < v.length; i++) h[i] = half == DType.F16 ? Half.f32ToF16(v[i]) : Half.f32ToBf16(v[i]);
        return Tensor.wrap(MemorySegment.ofArray(h), half, f32.shape());
    }

    private record InMemory(Map<String, Tensor> tensors) implements TensorSource {
        public String describe() { return "rounded weights"; }
        public Set<String> names() { return tensors.keySet(); }
        public boolean contains(String name) { return tensors.containsKey(name); }
        public Tensor get(String name) { return tensors.get(name); }
    }

    @Test
    void singleFileMatchesReference() {
        Path tiny = Shared.sdTiny();
        checkGolden(tiny.resolve("single-file.safetensors"), tiny.resolve("weights"));
    }
}
