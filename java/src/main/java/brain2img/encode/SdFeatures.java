package brain2img.encode;

import brain2img.backend.Backend;
import brain2img.eval.Picture;
import brain2img.sd.Sampler;
import brain2img.sd.SdComponents;
import brain2img.sd.SeededNoise;
import brain2img.tensor.Tensor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The Stable Diffusion feature spaces, computed as the reconstruction pipeline defines z and c (VAE posterior mean
 * of the stimulus at S×S in [-1,1]; CLIP hidden states averaged over the captions), plus the ones only encoding
 * needs: img2img latents from the true (z, c) and U-Net activations on the true z noised to a timestep. Every
 * random draw is {@link SeededNoise} with the run's seed, the same for every image, as in the pipeline.
 */
final class SdFeatures implements AutoCloseable {
    /** The schedule the early/middle/late aliases refer to: steps 10, 25, 40 of 50. */
    static final int ALIAS_STEPS = 50;

    private final SdComponents sd;
    private final Backend be;
    private final int size;
    private final long seed;

    SdFeatures(Path weights, Backend be, int size, long seed) {
        if (weights == null) throw new IllegalArgumentException("the z, c, zc@S and unet: spaces need Stable Diffusion weights (--weights)");
        if (size % 8 != 0) throw new IllegalArgumentException("--sd-size must be a multiple of 8, got " + size);
        this.sd = new SdComponents(weights, be);
        this.be = be;
        this.size = size;
        this.seed = seed;
    }

    /** Posterior means (unscaled) of the stimuli (C,H,W) in [0,1], resized to S×S: rows of 4·(S/8)². */
    float[][] z(List<Tensor> stimuli) {
        int d = 3 * size * size;
        float[] all = new float[stimuli.size() * d];
        for (int i = 0; i < stimuli.size(); i++) {
            double[] v = Picture.of(stimuli.get(i)).rgb().resize(size, size).data();
            for (int j = 0; j < d; j++) all[i * d + j] = (float) (2 * v[j] - 1);
        }
        Tensor img = Tensor.of(all, stimuli.size(), 3, size, size);
        return rows(be.download(sd.vae().encode(img).mean()).toFloatArray(), stimuli.size());
    }

    /** CLIP hidden states of the captions averaged over them: 77·D values. */
    float[] c(List<String> captions) {
        return sd.captionMean(captions);
    }

    /** img2img from the true latents z under the true c (diffusers convention, guidance with the empty prompt): unscaled latents. */
    float[][] zc(float[][] z, float[][] c, double strength, int steps, double guidance) {
        float scale = sd.vae().scalingFactor();
        Sampler sampler = new Sampler(sd.unet(), sd.scheduler(), be);
        Tensor latent = sampler.img2img(latents(z, scale), noise(z.length), strength, Sampler.Convention.DIFFUSERS, SdComponents.context(c), sd.uncond(),
                new Sampler.Settings(steps, (float) guidance, 0, seed), Sampler.Progress.NONE);
        float[] v = be.download(latent).toFloatArray();
        for (int i = 0; i < v.length; i++) v[i] /= scale;
        return rows(v, z.length);
    }

    /** The U-Net's {@code node} output in one pass at timestep t on z noised to t, conditioned on c: rows of C·h·w. */
    float[][] unet(float[][] z, float[][] c, String node, int t) {
        Tensor x = sd.scheduler().addNoise(be, be.upload(latents(z, sd.vae().scalingFactor())), be.upload(noise(z.length)), t);
        Map<String, Tensor> seen = new TreeMap<>();
        float[] ts = new float[z.length];
        java.util.Arrays.fill(ts, t);
        sd.unet().predict(x, ts, SdComponents.context(c), (name, act) -> {
            if (name.equals(node)) seen.put(name, be.download(act));
            else seen.putIfAbsent(name, null);
        });
        Tensor act = seen.get(node);
        if (act == null) throw new IllegalArgumentException("unet: no block '" + node + "' in this U-Net; it has " + String.join(", ", seen.keySet()));
        return rows(act.toFloatArray(), z.length);
    }

    /** A timestep: 0…T−1 as given, or early/middle/late = steps 10/25/40 of the 50-step schedule. */
    int timestep(String spec) {
        int[] ts = sd.scheduler().timesteps(ALIAS_STEPS);
        int t = switch (spec) {
            case "early" -> ts[10];
            case "middle" -> ts[25];
            case "late" -> ts[40];
            default -> Integer.parseInt(spec);
        };
        if (t < 0 || t >= sd.scheduler().trainTimesteps()) {
            throw new IllegalArgumentException("unet: timestep " + t + " outside 0.." + (sd.scheduler().trainTimesteps() - 1));
        }
        return t;
    }

    private Tensor noise(int n) {
        int s = size / 8;
        float[] one = SeededNoise.normal(seed, 0, 4, s, s).toFloatArray();
        float[] all = new float[n * one.length];
        for (int i = 0; i < n; i++) System.arraycopy(one, 0, all, i * one.length, one.length);
        return Tensor.of(all, n, 4, s, s);
    }

    private Tensor latents(float[][] z, float scale) {
        int s = size / 8, d = 4 * s * s;
        float[] all = new float[z.length * d];
        for (int i = 0; i < z.length; i++) {
            if (z[i].length != d) throw new IllegalArgumentException("z rows have " + z[i].length + " values, expected " + d + " for --sd-size " + size);
            for (int j = 0; j < d; j++) all[i * d + j] = z[i][j] * scale;
        }
        return Tensor.of(all, z.length, 4, s, s);
    }

    private static float[][] rows(float[] flat, int n) {
        int d = flat.length / n;
        List<float[]> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(java.util.Arrays.copyOfRange(flat, i * d, (i + 1) * d));
        return out.toArray(float[][]::new);
    }

    @Override
    public void close() {
        sd.close();
    }
}
