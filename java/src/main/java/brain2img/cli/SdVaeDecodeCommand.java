package brain2img.cli;

import brain2img.backend.Backend;
import brain2img.io.Npy;
import brain2img.sd.SdSource;
import brain2img.sd.Vae;
import brain2img.sd.VaeConfig;
import brain2img.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code brain2img sd vae-decode}: scaled latents to images. */
@Command(name = "vae-decode", mixinStandardHelpOptions = true,
        description = "Decode scaled latents (B,4,h,w) with the VAE to images (B,3,8h,8w), not clamped; optionally as PNGs.",
        footer = {"", "Example:",
                "  brain2img sd vae-decode --weights weights/sd-v1-4 --latent z.npy \\",
                "      --out img.npy --png out/",
                "",
                "The latent is divided by the VAE scaling_factor first; PNGs map [-1,1]",
                "to 0..255 with clamping."})
public final class SdVaeDecodeCommand implements Callable<Integer> {
    @Mixin
    SdWeightsOptions.Vae sd;

    @Option(names = "--latent", required = true, paramLabel = "z.npy", description = "Scaled latents (B,4,h,w), float.")
    Path latent;

    @Option(names = "--out", required = true, paramLabel = "img.npy", description = "Where to write the images (B,3,8h,8w) float32, in about [-1,1].")
    Path out;

    @Option(names = "--png", paramLabel = "DIR", description = "Also write each image as DIR/image_000.png, ...")
    Path png;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws IOException {
        try (SdSource src = sd.open()) {
            VaeConfig cfg = VaeConfig.from(src.config(SdSource.VAE));
            Tensor z = SdInputs.readFloat(latent, "latent");
            SdInputs.require4d(latent, z, "latent", cfg.latentChannels(), 1);
            try (Backend be = device.open()) {
                Tensor img = be.download(Vae.load(src, be).decode(z));
                Npy.write(out, img);
                sd.log().println("wrote " + out);
                if (png != null) SdInputs.writePngs(png, img, sd.log());
            }
        }
        return 0;
    }
}
