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

/** {@code brain2img sd vae-encode}: images to the VAE posterior (mean unscaled, log-variance). */
@Command(name = "vae-encode", mixinStandardHelpOptions = true,
        description = "Encode images (B,3,H,W) in [-1,1] with the VAE: posterior mean (unscaled) and log-variance.",
        footer = {"", "Example:",
                "  brain2img sd vae-encode --weights weights/sd-v1-4 --image img.npy \\",
                "      --out-mean m.npy --out-logvar lv.npy",
                "",
                "The img2img initial latent is the mean times the VAE scaling_factor",
                "(0.18215 for SD v1)."})
public final class SdVaeEncodeCommand implements Callable<Integer> {
    /** Values this far outside [-1,1] mean the image was not mapped from 0..255 (x/127.5 − 1). */
    private static final float RANGE_SLACK = 0.01f;

    @Mixin
    SdWeightsOptions.Vae sd;

    @Option(names = "--image", required = true, paramLabel = "img.npy", description = "Images (B,3,H,W), float in [-1,1]; H and W multiples of 8.")
    Path image;

    @Option(names = "--out-mean", required = true, paramLabel = "m.npy", description = "Where to write the posterior mean (B,4,H/8,W/8), unscaled.")
    Path outMean;

    @Option(names = "--out-logvar", paramLabel = "lv.npy", description = "Where to write the log-variance (B,4,H/8,W/8), clamped to [-30,20].")
    Path outLogvar;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws IOException {
        try (SdSource src = sd.open()) {
            VaeConfig cfg = VaeConfig.from(src.config(SdSource.VAE));
            Tensor x = SdInputs.readFloat(image, "image");
            SdInputs.require4d(image, x, "image", cfg.inChannels(), cfg.downFactor());
            float[] v = x.floats();
            for (float f : v) {
                if (!(Math.abs(f) <= 1 + RANGE_SLACK)) {
                    throw new Main.UsageException(image + ": image values must be in [-1,1] (pixel/127.5 − 1), found " + f);
                }
            }
            try (Backend be = device.open()) {
                Vae.Posterior p = Vae.load(src, be).encode(x);
                Npy.write(outMean, be.download(p.mean()));
                sd.log().println("wrote " + outMean);
                if (outLogvar != null) {
                    Npy.write(outLogvar, be.download(p.logvar()));
                    sd.log().println("wrote " + outLogvar);
                }
            }
        }
        return 0;
    }
}
