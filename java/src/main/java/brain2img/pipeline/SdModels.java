package brain2img.pipeline;

import brain2img.backend.Backend;
import brain2img.eval.Picture;
import brain2img.sd.Sampler;
import brain2img.sd.SdComponents;
import brain2img.sd.SeededNoise;
import brain2img.tensor.Tensor;

import java.nio.file.Path;
import java.util.List;

/**
 * The Stable Diffusion v1 pieces the pipeline needs, loaded lazily from one checkpoint: the VAE for z and
 * X_z, the CLIP text encoder for c, the U-Net for X_c and X_zc. Pictures are (3,S,S) in [0,1] at the sampling
 * size S; SD's images are [-1,1], hence the ×2−1 on the way in and back.
 */
public final class SdModels implements AutoCloseable {
    private final SdComponents sd;
    private final Backend be;
    final int size;

    public SdModels(Path weights, Backend be, int size) {
        if (weights == null) throw new IllegalArgumentException("--targets z,c needs Stable Diffusion weights (--weights DIR or FILE)");
        this.sd = new SdComponents(weights, be);
        this.be = be;
        this.size = size;
    }

    int latentSide() {
        return size / 8;
    }

    /** Posterior means (unscaled) of the pictures resized to S×S: (n, 4·(S/8)²) rows. */
    float[][] encode(List<Picture> pictures) {
        Tensor img = stack(pictures.stream().map(p -> p.rgb().resize(size, size)).toList());
        float[] mean = be.download(sd.vae().encode(img).mean()).toFloatArray();
        return split(mean, pictures.size());
    }

    /** CLIP hidden states of an image's captions, averaged over the captions: 77·D values. */
    float[] conditioning(List<String> captions) {
        return sd.captionMean(captions);
    }

    /** X_z: the VAE decoding of unscaled latents (n rows) → pictures. */
    public Picture[] decode(float[][] z) {
        return pictures(sd.vae().decode(latentBatch(z, sd.vae().scalingFactor())));
    }

    /** X_c: text-to-image from conditionings (n rows of 77·D), sample seed {@code seed}. */
    Picture[] textToImage(float[][] c, long seed, int steps, double guidance) {
        Tensor noise = noise(c.length, seed);
        Tensor latent = new Sampler(sd.unet(), sd.scheduler(), be).txt2img(noise, SdComponents.context(c), sd.uncond(), new Sampler.Settings(steps, (float) guidance, 0, seed), (i, n, t) -> {});
        return pictures(sd.vae().decode(latent));
    }

    /**
     * The start of X_zc for decoded latents: decoded z → image, clamped to [0,1] like the saved X_z picture
     * Takagi's code re-reads → re-encoded at S×S (posterior mean × scaling factor). The same for every sample.
     */
    public Tensor initLatent(float[][] z) {
        return latentBatch(encode(java.util.Arrays.asList(decode(z))), sd.vae().scalingFactor());
    }

    /** X_zc, Takagi's img2img: the init latent noised to {@code strength}, then DDIM with guidance on c (diffusers convention). */
    public Picture[] imageToImage(Tensor init, float[][] c, long seed, int steps, double guidance, double strength) {
        Tensor latent = new Sampler(sd.unet(), sd.scheduler(), be).img2img(init, noise(c.length, seed), strength, Sampler.Convention.DIFFUSERS, SdComponents.context(c), sd.uncond(),
                new Sampler.Settings(steps, (float) guidance, 0, seed), (i, n, t) -> {});
        return pictures(sd.vae().decode(latent));
    }

    // ---------------------------------------------------------------- helpers

    /** The same seeded noise for every image of the batch: sample k of every image starts from seed 42+k. */
    private Tensor noise(int n, long seed) {
        int s = latentSide();
        float[] one = SeededNoise.normal(seed, 0, 1, 4, s, s).toFloatArray();
        float[] all = new float[n * one.length];
        for (int i = 0; i < n; i++) System.arraycopy(one, 0, all, i * one.length, one.length);
        return Tensor.of(all, n, 4, s, s);
    }

    /** Rows of unscaled latents × scale as a host (n,4,S/8,S/8) tensor. */
    private Tensor latentBatch(float[][] z, float scale) {
        int s = latentSide();
        float[] all = new float[z.length * 4 * s * s];
        for (int i = 0; i < z.length; i++) for (int j = 0; j < z[i].length; j++) all[i * z[i].length + j] = z[i][j] * scale;
        return Tensor.of(all, z.length, 4, s, s);
    }

    /** [0,1] pictures → (n,3,S,S) in [-1,1]. */
    private static Tensor stack(List<Picture> ps) {
        int d = ps.get(0).data().length, s = ps.get(0).height();
        float[] all = new float[ps.size() * d];
        for (int i = 0; i < ps.size(); i++) {
            double[] v = ps.get(i).data();
            for (int j = 0; j < d; j++) all[i * d + j] = (float) (2 * v[j] - 1);
        }
        return Tensor.of(all, ps.size(), 3, s, s);
    }

    /** (n,3,S,S) in [-1,1] on the backend → clamped [0,1] pictures. */
    private Picture[] pictures(Tensor images) {
        Tensor host = be.download(images);
        int n = host.dimInt(0), h = host.dimInt(2), w = host.dimInt(3);
        float[] v = host.toFloatArray();
        Picture[] out = new Picture[n];
        int d = 3 * h * w;
        for (int i = 0; i < n; i++) {
            double[] p = new double[d];
            for (int j = 0; j < d; j++) p[j] = Math.max(0, Math.min(1, (v[i * d + j] + 1) / 2));
            out[i] = new Picture(3, h, w, p);
        }
        return out;
    }

    private static float[][] split(float[] flat, int n) {
        int d = flat.length / n;
        float[][] rows = new float[n][];
        for (int i = 0; i < n; i++) rows[i] = java.util.Arrays.copyOfRange(flat, i * d, (i + 1) * d);
        return rows;
    }

    @Override
    public void close() {
        sd.close();
    }
}
