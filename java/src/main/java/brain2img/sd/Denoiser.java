package brain2img.sd;

import brain2img.tensor.Tensor;

/** A noise-prediction network: the U-Net, or anything standing in for it in a sampler. */
public interface Denoiser {
    /**
     * Predicts the noise (or v) in a latent.
     *
     * @param latent    (B,4,h,w) noisy latents
     * @param timesteps B timesteps (may be fractional)
     * @param context   (B,L,D) cross-attention context (CLIP hidden states)
     * @return (B,4,h,w)
     */
    Tensor predict(Tensor latent, float[] timesteps, Tensor context);
}
