package brain2img.sd;

import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.io.Npy;
import brain2img.tensor.Tensor;
import brain2img.testing.Assert;
import brain2img.testing.Shared;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

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

    @Test
    void diffusersFolderMatchesReference() {
        checkGolden(Shared.sdTiny().resolve("weights"), null);
    }

    @Test
    void singleFileMatchesReference() {
        Path tiny = Shared.sdTiny();
        checkGolden(tiny.resolve("single-file.safetensors"), tiny.resolve("weights"));
    }
}
