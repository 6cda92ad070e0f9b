package brain2img.cli;

import brain2img.backend.Backend;
import brain2img.io.Npy;
import brain2img.sd.SdSource;
import brain2img.sd.UNet;
import brain2img.sd.UNetConfig;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code brain2img sd unet}: one U-Net noise prediction from .npy inputs. */
@Command(name = "unet", mixinStandardHelpOptions = true,
        description = "Run the U-Net once: noisy latents, timesteps and text context in, predicted noise out.",
        footer = {"", "Examples:",
                "  brain2img sd unet --weights sd-v1-4 --latent x.npy --timesteps t.npy \\",
                "      --context c.npy --out eps.npy",
                "  brain2img sd unet --weights v1-5-pruned-emaonly.safetensors --config sd-v1-5 \\",
                "      --latent x.npy --timesteps t.npy --context c.npy --out eps.npy"})
public final class SdUnetCommand implements Callable<Integer> {
    @Mixin
    SdWeightsOptions.Unet sd;

    @Option(names = "--latent", required = true, paramLabel = "x.npy", description = "Noisy latents (B,4,h,w), float; h and w multiples of 8.")
    Path latent;

    @Option(names = "--timesteps", required = true, paramLabel = "t.npy", description = "Timesteps (B) or one for all, int64/int32 or float.")
    Path timesteps;

    @Option(names = "--context", required = true, paramLabel = "c.npy", description = "Text context (B,S,D), float (CLIP last hidden states).")
    Path context;

    @Option(names = "--out", required = true, paramLabel = "eps.npy", description = "Where to write the prediction (B,4,h,w) float32.")
    Path out;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws IOException {
        try (SdSource src = sd.open()) {
            UNetConfig cfg = UNetConfig.of(src);
            Tensor x = SdInputs.readFloat(latent, "latent");
            Tensor t = Npy.read(timesteps);
            Tensor c = SdInputs.readFloat(context, "context");
            SdInputs.check(latent, () -> cfg.checkLatent(x.shape()));
            if (t.rank() > 1) throw new Main.UsageException(timesteps + ": timesteps must be a vector (B) or a scalar, got " + t.shapeString());
            if (t.dtype() == DType.U8) throw new Main.UsageException(timesteps + ": timesteps must be int64, int32 or float, got " + t.shapeString());
            SdInputs.check(timesteps, () -> UNetConfig.checkTimesteps(Math.toIntExact(t.numel()), x.dim(0)));
            SdInputs.check(context, () -> cfg.checkContext(c.shape(), x.dim(0)));
            float[] ts = t.toFloatArray();
            for (float v : ts) if (!Float.isFinite(v)) throw new Main.UsageException(timesteps + ": timestep " + v + " is not finite");

            try (Backend be = device.open()) {
                UNet unet = UNet.load(src, be);
                Tensor eps = be.download(unet.predict(be.upload(x), ts, be.upload(c)));
                Npy.write(out, eps);
            }
        }
        System.err.println("wrote " + out);
        return 0;
    }
}
