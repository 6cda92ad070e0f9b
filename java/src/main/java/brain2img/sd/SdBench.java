package brain2img.sd;

import brain2img.backend.Backend;
import brain2img.cuda.CudaBackend;
import brain2img.tensor.Tensor;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * {@code brain2img bench sd}: Stable Diffusion timings on random weights of the built-in configs
 * ({@link RandomWeights}): a U-Net step at each batch, a classifier-free guidance step (batch 2 and the mix), a VAE
 * decode, a whole img2img (VAE encode, the guided DDIM loop, VAE decode) and its images/s at a large batch. Each
 * line gives the mean wall time after one warm-up call (the device synchronised around it), the analytic FLOP
 * count ({@link UNetFlops}, {@link VaeFlops}) and the achieved rate.
 */
public final class SdBench {
    /** Context length of the CLIP text conditioning. */
    private static final int CONTEXT = 77;
    private static final float GUIDANCE = 7.5f;

    /**
     * @param model           {@code v1} (SD v1.4 size) or {@code tiny}
     * @param batches         U-Net batch sizes to time one step at
     * @param latent          latent side (64 for 512² images)
     * @param steps           DDIM steps of the img2img schedule
     * @param strength        img2img strength: floor(steps·strength) guided steps run
     * @param throughputBatch images in the images/s run; 0 skips it
     * @param reps            timed calls per line (after one warm-up)
     */
    public record Options(String model, int[] batches, int latent, int steps, double strength, int throughputBatch, int reps) {
        public Options {
            if (batches.length == 0 || Arrays.stream(batches).anyMatch(b -> b < 1)) {
                throw new IllegalArgumentException("batches must be ≥ 1, got " + Arrays.toString(batches));
            }
            if (latent < 8 || latent % 8 != 0) throw new IllegalArgumentException("latent must be a multiple of 8, got " + latent);
            if (steps < 1 || reps < 1 || throughputBatch < 0) throw new IllegalArgumentException("steps and reps must be ≥ 1, throughput batch ≥ 0");
            if (!(strength > 0 && strength <= 1)) throw new IllegalArgumentException("strength must be in (0, 1], got " + strength);
        }
    }

    private final Backend be;
    private final Options o;
    private final PrintStream out;
    private final boolean device;
    private final SplittableRandom rnd = new SplittableRandom(7);

    private SdBench(Backend be, Options o, PrintStream out) {
        this.be = be;
        this.o = o;
        this.out = out;
        this.device = !be.name().equals("cpu");
    }

    public static void run(Backend be, Options o, PrintStream out) {
        new SdBench(be, o, out).run();
    }

    private void run() {
        UNetConfig ucfg = RandomWeights.unetConfig(o.model());
        VaeConfig vcfg = RandomWeights.vaeConfig(o.model());
        long params = UNet.parameterShapes(ucfg).values().stream().mapToLong(Tensor::numel).sum();
        int l = o.latent(), img = l * vcfg.downFactor(), ctxDim = ucfg.crossAttentionDim();
        out.printf(Locale.ROOT, "model: %s, random weights (U-Net %.1fM parameters), latent %d×%d (image %d²), context %d×%d; backend: %s%n",
                o.model(), params / 1e6, l, l, img, CONTEXT, ctxDim, be.describe());
        UNet unet = RandomWeights.unet(ucfg, be, 42);
        Vae vae = RandomWeights.vae(vcfg, be, 43);
        long unetFlops = UNetFlops.of(ucfg, l, l, CONTEXT).total();

        for (int b : o.batches()) {
            Tensor x = be.upload(gaussian(b, ucfg.inChannels(), l, l)), c = be.upload(gaussian(b, CONTEXT, ctxDim));
            float[] t = new float[b];
            Arrays.fill(t, 981f);
            line(String.format(Locale.ROOT, "unet step, batch %d, %d×%d", b, l, l), time(() -> unet.predict(x, t, c)), b * unetFlops);
        }

        Tensor x2 = be.upload(gaussian(2, ucfg.inChannels(), l, l)), c2 = be.upload(gaussian(2, CONTEXT, ctxDim));
        line("guidance step (uncond+cond batch 2, CFG mix)", time(() -> {
            Tensor eps = unet.predict(x2, new float[]{981f, 981f}, c2);
            return be.axpby(1 - GUIDANCE, eps.slice(0, 1), GUIDANCE, eps.slice(1, 2));
        }), 2 * unetFlops);

        Tensor z = be.upload(gaussian(1, vcfg.latentChannels(), l, l));
        line(String.format(Locale.ROOT, "vae decode, batch 1, to %d×%d", img, img), time(() -> vae.decode(z)), VaeFlops.decode(vcfg, l, l));

        Sampler sampler = new Sampler(unet, DdimScheduler.from(SdSource.defaultConfig(SdSource.SCHEDULER, "scheduler_config.json")), be);
        int guided = img2imgSteps();
        long perImage = VaeFlops.encode(vcfg, img, img) + guided * 2 * unetFlops + VaeFlops.decode(vcfg, l, l);
        line(String.format(Locale.ROOT, "img2img, batch 1, %d-step schedule (%d guided steps) + VAE", o.steps(), guided),
                time(() -> img2img(sampler, vae, 1, ucfg, vcfg)), perImage);

        int n = o.throughputBatch();
        if (n > 0) {
            double sec = once(() -> img2img(sampler, vae, n, ucfg, vcfg));
            line(String.format(Locale.ROOT, "img2img, batch %d: %.3f images/s", n, n / sec), sec, n * perImage);
        }
        out.println("peak device memory: " + (be instanceof CudaBackend cuda ? cuda.memoryStats()
                : "not tracked by the " + be.name() + " backend"));
    }

    /** Guided steps an img2img of the options' schedule and strength runs. */
    private int img2imgSteps() {
        DdimScheduler s = DdimScheduler.from(SdSource.defaultConfig(SdSource.SCHEDULER, "scheduler_config.json"));
        return Sampler.img2imgPlan(s, o.steps(), o.strength(), Sampler.Convention.DIFFUSERS).timesteps().length;
    }

    /** images (n,3,H,W) → VAE mean · scaling factor → guided DDIM from the options' strength → decoded images. */
    private Tensor img2img(Sampler sampler, Vae vae, int n, UNetConfig ucfg, VaeConfig vcfg) {
        int l = o.latent(), img = l * vcfg.downFactor();
        Tensor image = be.upload(uniform(n, vcfg.inChannels(), img, img));
        Tensor z0 = be.scale(vae.encode(image).mean(), vae.scalingFactor());
        Tensor latent = sampler.img2img(z0, gaussian(n, ucfg.inChannels(), l, l), o.strength(), Sampler.Convention.DIFFUSERS,
                gaussian(n, CONTEXT, ucfg.crossAttentionDim()), gaussian(1, CONTEXT, ucfg.crossAttentionDim()),
                new Sampler.Settings(o.steps(), GUIDANCE, 0, 0), Sampler.Progress.NONE);
        return vae.decode(latent);
    }

    /** Mean seconds per call over {@code reps} calls after one warm-up. */
    private double time(Supplier<Tensor> op) {
        done(op.get());
        double total = 0;
        for (int i = 0; i < o.reps(); i++) total += once(op);
        return total / o.reps();
    }

    /** Seconds of one call, from a synchronised device to the result's completion. */
    private double once(Supplier<Tensor> op) {
        sync();
        long t0 = System.nanoTime();
        Tensor r = op.get();
        sync();
        double s = (System.nanoTime() - t0) / 1e9;
        done(r);
        return s;
    }

    private void sync() {
        if (be instanceof CudaBackend cuda) cuda.synchronize();
    }

    /** Results go back to the device's cache at once instead of waiting for the GC. */
    private void done(Tensor t) {
        if (t.isOnDevice()) t.close();
    }

    private void line(String what, double sec, long flops) {
        double rate = flops / sec;
        out.printf(Locale.ROOT, "%-58s %10.2f ms %14.4f GFLOP %10.3f %s%n", what, sec * 1e3, flops / 1e9,
                device ? rate / 1e12 : rate / 1e9, device ? "TFLOP/s" : "GFLOP/s");
    }

    private Tensor gaussian(long... shape) {
        float[] d = new float[Math.toIntExact(Tensor.numel(shape))];
        for (int i = 0; i < d.length; i++) d[i] = (float) rnd.nextGaussian();
        return Tensor.of(d, shape);
    }

    private Tensor uniform(long... shape) {
        float[] d = new float[Math.toIntExact(Tensor.numel(shape))];
        for (int i = 0; i < d.length; i++) d[i] = (float) rnd.nextDouble(-1, 1);
        return Tensor.of(d, shape);
    }
}
