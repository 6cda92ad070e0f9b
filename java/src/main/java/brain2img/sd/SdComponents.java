package brain2img.sd;

import brain2img.backend.Backend;
import brain2img.tensor.Tensor;

import java.nio.file.Path;
import java.util.List;

/**
 * The parts of one Stable Diffusion v1 checkpoint, each loaded onto one backend on first use, plus the CLIP
 * conditioning both of their users build the same way: the reconstruction pipeline ({@code SdModels}) and
 * feature encoding ({@code SdFeatures}), which must define c identically.
 */
public final class SdComponents implements AutoCloseable {
    private final SdSource src;
    private final Backend be;
    private Vae vae;
    private ClipTokenizer tokenizer;
    private ClipTextEncoder text;
    private UNet unet;
    private DdimScheduler scheduler;
    private Tensor uncond;

    /** Opens the checkpoint (diffusers folder or single file, v1 configs); nothing is loaded yet. */
    public SdComponents(Path weights, Backend be) {
        this.src = SdSource.open(weights, null);
        this.be = be;
    }

    public Vae vae() {
        if (vae == null) vae = Vae.load(src, be);
        return vae;
    }

    public ClipTokenizer tokenizer() {
        if (tokenizer == null) tokenizer = ClipTokenizer.load(src.tokenizerDir());
        return tokenizer;
    }

    public ClipTextEncoder text() {
        if (text == null) text = ClipTextEncoder.load(src, be);
        return text;
    }

    public UNet unet() {
        if (unet == null) unet = UNet.load(src, be);
        return unet;
    }

    /** Immutable, so one instance serves every sampler. */
    public DdimScheduler scheduler() {
        if (scheduler == null) scheduler = DdimScheduler.load(src);
        return scheduler;
    }

    /** c of one image: the CLIP hidden states of its captions, averaged over the captions: 77·D values. */
    public float[] captionMean(List<String> captions) {
        float[] h = be.download(text().encodeTexts(tokenizer(), captions)).toFloatArray();
        int d = h.length / captions.size();
        float[] mean = new float[d];
        for (int k = 0; k < captions.size(); k++) for (int j = 0; j < d; j++) mean[j] += h[k * d + j] / captions.size();
        return mean;
    }

    /** The unconditional context: the encoded empty prompt, host (1,77,D). */
    public Tensor uncond() {
        if (uncond == null) uncond = be.download(text().encodeTexts(tokenizer(), List.of("")));
        return uncond;
    }

    /** Rows of 77·D values → the U-Net's host context (n,77,D). */
    public static Tensor context(float[][] c) {
        int d = c[0].length, tokens = ClipTokenizer.CONTEXT_LENGTH;
        float[] all = new float[c.length * d];
        for (int i = 0; i < c.length; i++) System.arraycopy(c[i], 0, all, i * d, d);
        return Tensor.of(all, c.length, tokens, d / tokens);
    }

    @Override
    public void close() {
        src.close();
    }
}
