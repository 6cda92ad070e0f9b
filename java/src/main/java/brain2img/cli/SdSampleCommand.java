package brain2img.cli;

import brain2img.backend.Backend;
import brain2img.io.Npy;
import brain2img.sd.DdimScheduler;
import brain2img.sd.Sampler;
import brain2img.sd.SdSource;
import brain2img.sd.UNet;
import brain2img.sd.UNetConfig;
import brain2img.sd.Vae;
import brain2img.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code brain2img sd sample}: DDIM txt2img, or img2img with --init-latent, with classifier-free guidance. */
@Command(name = "sample", mixinStandardHelpOptions = true,
        description = "DDIM sampling with classifier-free guidance: txt2img from noise, or img2img from --init-latent.",
        footer = {"", "Examples:",
                "  brain2img sd sample --weights weights/sd-v1-4 --cond c.npy --uncond u.npy \\",
                "      --noise n.npy --steps 50 --guidance 7.5 --out-latent l.npy --png out/",
                "  brain2img sd sample --weights weights/sd-v1-4 --cond c.npy --uncond u.npy \\",
                "      --noise n.npy --steps 50 --guidance 5 --init-latent z0.npy \\",
                "      --strength 0.75 --convention compvis --out-latent l.npy \\",
                "      --out-image img.npy",
                "",
                "img2img conventions: diffusers runs the last floor(N*S) timesteps and noises",
                "z0 to the first of them; compvis (CompVis img2img.py, as Takagi & Nishimoto)",
                "runs the same steps but noises z0 one DDIM step higher. With --eta > 0 the",
                "step noise comes from our own documented generator seeded by --seed (not",
                "torch's: diffusers with the same seed draws other noise)."})
public final class SdSampleCommand implements Callable<Integer> {
    @Mixin
    SdWeightsOptions.Sampling sd;

    @Option(names = "--cond", required = true, paramLabel = "c.npy", description = "Conditional text context (B,77,D), float.")
    Path cond;

    @Option(names = "--uncond", required = true, paramLabel = "u.npy", description = "Unconditional context (B,77,D) or (1,77,D), float (the empty prompt's).")
    Path uncond;

    @Option(names = "--noise", required = true, paramLabel = "n.npy",
            description = "Standard normal latent noise (B,4,h,w): the start of txt2img, or what img2img adds to z0.")
    Path noise;

    @Option(names = "--steps", required = true, paramLabel = "N", description = "DDIM steps (img2img runs the last floor(N*S) of them).")
    int steps;

    @Option(names = "--guidance", required = true, paramLabel = "G", description = "Guidance scale: eps = eps_u + G*(eps_c - eps_u).")
    float guidance;

    @Option(names = "--init-latent", paramLabel = "z0.npy", description = "img2img: the initial scaled latent (B,4,h,w) (VAE mean x scaling_factor).")
    Path initLatent;

    @Option(names = "--strength", paramLabel = "S", description = "img2img strength in (0,1]; needs --init-latent.")
    Double strength;

    @Option(names = "--convention", paramLabel = "diffusers|compvis", description = "img2img start-step convention (default: diffusers).")
    String convention;

    @Option(names = "--eta", paramLabel = "E", defaultValue = "0", description = "DDIM eta >= 0 (default 0: deterministic).")
    double eta;

    @Option(names = "--seed", paramLabel = "K", defaultValue = "0", description = "Seed of the eta > 0 step noise (default 0).")
    long seed;

    @Option(names = "--out-latent", required = true, paramLabel = "l.npy", description = "Where to write the final scaled latent (B,4,h,w) float32.")
    Path outLatent;

    @Option(names = "--out-image", paramLabel = "img.npy", description = "Also decode with the VAE and write the images (B,3,8h,8w), not clamped.")
    Path outImage;

    @Option(names = "--png", paramLabel = "DIR", description = "Also decode and write each image as DIR/image_000.png, ...")
    Path png;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws IOException {
        boolean img2img = initLatent != null;
        if (img2img != (strength != null)) throw new Main.UsageException("--init-latent and --strength go together (img2img)");
        if (convention != null && !img2img) throw new Main.UsageException("--convention applies to img2img only (give --init-latent and --strength)");
        Sampler.Convention conv = parseConvention(convention);
        Sampler.Settings settings;
        try {
            settings = new Sampler.Settings(steps, guidance, eta, seed);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }

        try (SdSource src = sd.open()) {
            UNetConfig ucfg = UNetConfig.of(src);
            DdimScheduler scheduler = DdimScheduler.load(src);
            Tensor n = SdInputs.readFloat(noise, "noise");
            Tensor c = SdInputs.readFloat(cond, "cond");
            Tensor u = SdInputs.readFloat(uncond, "uncond");
            Tensor z0 = img2img ? SdInputs.readFloat(initLatent, "init latent") : null;
            SdInputs.check(noise, () -> ucfg.checkLatent(n.shape()));
            SdInputs.check(cond, () -> ucfg.checkContext(c.shape(), n.dim(0)));
            SdInputs.check(uncond, () -> ucfg.checkContext(u.shape(), u.dim(0) == 1 ? 1 : n.dim(0)));
            if (u.dim(1) != c.dim(1)) {
                throw new Main.UsageException(uncond + ": " + u.dim(1) + " tokens but --cond has " + c.dim(1));
            }
            if (img2img && !z0.sameShape(n)) {
                throw new Main.UsageException(initLatent + ": init latent " + z0.shapeString() + " must have the noise's shape " + n.shapeString());
            }
            describePlan(scheduler, conv);
            try (Backend be = device.open()) {
                UNet unet = UNet.load(src, be);
                // Loaded before sampling, so a bad VAE fails before the expensive part.
                Vae vae = outImage != null || png != null ? Vae.load(src, be) : null;
                Sampler sampler = new Sampler(unet, scheduler, be);
                Sampler.Progress progress = (i, total, t) -> sd.log().printf(Locale.ROOT, "step %d/%d  t=%d%n", i + 1, total, t);
                Tensor latent = img2img
                        ? sampler.img2img(z0, n, strength, conv, c, u, settings, progress)
                        : sampler.txt2img(n, c, u, settings, progress);
                Tensor host = be.download(latent);
                Npy.write(outLatent, host);
                sd.log().println("wrote " + outLatent);
                if (vae != null) {
                    Tensor images = be.download(vae.decode(latent));
                    if (outImage != null) {
                        Npy.write(outImage, images);
                        sd.log().println("wrote " + outImage);
                    }
                    if (png != null) SdInputs.writePngs(png, images, sd.log());
                }
            }
        }
        return 0;
    }

    /** Checks steps and strength against the schedule before anything is loaded, and says what will run. */
    private void describePlan(DdimScheduler scheduler, Sampler.Convention conv) {
        try {
            if (initLatent == null) {
                scheduler.timesteps(steps);
                return;
            }
            Sampler.Plan plan = Sampler.img2imgPlan(scheduler, steps, strength, conv);
            sd.log().printf(Locale.ROOT, "img2img (%s): %d of %d steps from t=%d, noise at t=%d%n",
                    conv.name().toLowerCase(Locale.ROOT), plan.timesteps().length, steps, plan.timesteps()[0], plan.noiseTimestep());
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
    }

    private static Sampler.Convention parseConvention(String s) {
        if (s == null) return Sampler.Convention.DIFFUSERS;
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "diffusers" -> Sampler.Convention.DIFFUSERS;
            case "compvis" -> Sampler.Convention.COMPVIS;
            default -> throw new Main.UsageException("--convention must be diffusers or compvis, got '" + s + "'");
        };
    }
}
