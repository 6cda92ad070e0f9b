package brain2img.sd;

import brain2img.backend.Backend;
import brain2img.io.FormatException;
import brain2img.sd.UNetModules.Conv;
import brain2img.sd.UNetModules.GroupNorm;
import brain2img.sd.UNetModules.Linear;
import brain2img.sd.UNetModules.Params;
import brain2img.sd.UNetModules.Resnet;
import brain2img.sd.UNetModules.SpatialTransformer;
import brain2img.tensor.Tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Stable Diffusion noise predictor, diffusers' {@code UNet2DConditionModel} as configured by a
 * {@link UNetConfig}: timestep features → time MLP; conv_in; down levels of ResNets (+ spatial transformers)
 * and stride-2 convs, each output kept as a skip; the middle block (ResNet, transformer, ResNet); up levels
 * that concatenate [h, skip] before each ResNet and upsample (nearest to the next skip's size — ×2 when the
 * latent halves evenly — + conv); GroupNorm+SiLU → conv_out.
 *
 * <p>Every parameter is fetched once at construction through {@link Backend#upload}, so a forward pass reads
 * only backend-resident tensors. Latents may have any size, as in diffusers: a stride-2 conv takes a side n to
 * ⌈n/2⌉ (⌊n/2⌋ with {@code downsample_padding} 0), and the up path resizes back to each skip's size.
 */
public final class UNet implements Denoiser {

    /**
     * Receives named intermediate activations of one forward pass (backend tensors, valid after the call):
     * {@code conv_in}, {@code down_blocks.i} (after its downsampler, if any), {@code mid_block},
     * {@code up_blocks.i} (after its upsampler, if any), each (B,C,h',w').
     */
    @FunctionalInterface
    public interface FeatureHook {
        void accept(String name, Tensor activation);
    }

    /** One down or up level: ResNets, a spatial transformer after each (or none), and a resampling conv or null. */
    private record Level(Resnet[] resnets, SpatialTransformer[] attentions, Conv resample) {}

    private final UNetConfig cfg;
    private final Backend be;
    private final Linear timeLinear1, timeLinear2;
    private final Conv convIn, convOut;
    private final GroupNorm normOut;
    private final Level[] down, up;
    private final Resnet midResnet0, midResnet1;
    private final SpatialTransformer midAttention;

    private UNet(UNetConfig cfg, Params p, Backend be) {
        this.cfg = cfg;
        this.be = be;
        int levels = cfg.levels();
        int[] ch = cfg.blockOutChannels();
        timeLinear1 = Linear.of(p, "time_embedding.linear_1", cfg.timeProjDim(), cfg.timeEmbedDim(), true);
        timeLinear2 = Linear.of(p, "time_embedding.linear_2", cfg.timeEmbedDim(), cfg.timeEmbedDim(), true);
        convIn = Conv.of(p, "conv_in", cfg.inChannels(), ch[0], cfg.convInKernel(), 1);

        down = new Level[levels];
        for (int i = 0; i < levels; i++) {
            String name = "down_blocks." + i;
            int in = i == 0 ? ch[0] : ch[i - 1];
            int n = cfg.layersPerBlock()[i];
            Resnet[] res = new Resnet[n];
            SpatialTransformer[] attn = cfg.downAttention()[i] ? new SpatialTransformer[n] : null;
            for (int j = 0; j < n; j++) {
                res[j] = new Resnet(p, name + ".resnets." + j, j == 0 ? in : ch[i], ch[i], cfg);
                if (attn != null) attn[j] = transformer(p, name + ".attentions." + j, ch[i], i);
            }
            // downsample_padding 0 means diffusers pads right/bottom by one, then a valid stride-2 conv
            int padLo = cfg.downsamplePadding(), padHi = 1;
            Conv ds = i == levels - 1 ? null
                    : Conv.of(p, name + ".downsamplers.0.conv", ch[i], ch[i], 3, 2, padLo, padHi);
            down[i] = new Level(res, attn, ds);
        }

        int top = ch[levels - 1];
        midResnet0 = new Resnet(p, "mid_block.resnets.0", top, top, cfg);
        midAttention = transformer(p, "mid_block.attentions.0", top, levels - 1);
        midResnet1 = new Resnet(p, "mid_block.resnets.1", top, top, cfg);

        up = new Level[levels];
        int prevOut = top;
        for (int i = 0; i < levels; i++) {
            String name = "up_blocks." + i;
            int level = levels - 1 - i;
            int out = ch[level];
            int skipIn = ch[Math.max(level - 1, 0)];       // width of the skips from the level below
            int n = cfg.layersPerBlock()[level] + 1;
            Resnet[] res = new Resnet[n];
            SpatialTransformer[] attn = cfg.upAttention()[i] ? new SpatialTransformer[n] : null;
            for (int j = 0; j < n; j++) {
                int skip = j == n - 1 ? skipIn : out;
                int hIn = j == 0 ? prevOut : out;
                res[j] = new Resnet(p, name + ".resnets." + j, hIn + skip, out, cfg);
                if (attn != null) attn[j] = transformer(p, name + ".attentions." + j, out, level);
            }
            Conv us = i == levels - 1 ? null : Conv.of(p, name + ".upsamplers.0.conv", out, out, 3, 1);
            up[i] = new Level(res, attn, us);
            prevOut = out;
        }
        normOut = GroupNorm.of(p, "conv_norm_out", ch[0], cfg.normGroups(), cfg.normEps());
        convOut = Conv.of(p, "conv_out", ch[0], cfg.outChannels(), cfg.convOutKernel(), 1);
    }

    private SpatialTransformer transformer(Params p, String name, int width, int level) {
        return new SpatialTransformer(p, name, width, cfg.crossAttentionDim(), cfg.heads()[level],
                cfg.transformerLayers()[level], cfg);
    }

    /** Loads the U-Net of a checkpoint (either layout) onto a backend. */
    public static UNet load(SdSource src, Backend be) {
        UNetConfig cfg = UNetConfig.of(src);
        return build(cfg, src.component(SdSource.UNET, new UNetKeys(cfg)), be);
    }

    /**
     * Builds a U-Net from a config and tensors under diffusers names, uploading each once. All missing or
     * mis-shaped tensors are reported together, by name; tensors the network does not use are ignored.
     */
    public static UNet build(UNetConfig cfg, TensorSource weights, Backend be) {
        List<String> problems = new ArrayList<>();
        Params loader = (name, shape) -> {
            if (!weights.contains(name)) {
                problems.add("missing '" + name + "' " + Arrays.toString(shape));
                return null;
            }
            try {
                return be.upload(weights.get(name, shape));
            } catch (FormatException e) {
                Tensor t = weights.get(name);
                problems.add("'" + name + "' has shape " + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(shape));
                return null;
            }
        };
        UNet net = new UNet(cfg, loader, be);
        if (!problems.isEmpty()) {
            int show = Math.min(problems.size(), 5);
            throw new FormatException(weights.describe() + ": " + problems.size() + " U-Net tensor(s) do not fit "
                    + cfg + ": " + String.join("; ", problems.subList(0, show)) + (show < problems.size() ? "; ..." : ""));
        }
        return net;
    }

    /** Every parameter the network reads, in construction order, with its shape (no tensor is touched). */
    public static Map<String, long[]> parameterShapes(UNetConfig cfg) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        new UNet(cfg, (name, shape) -> {
            shapes.put(name, shape.clone());
            return null;
        }, null);
        return shapes;
    }

    public UNetConfig config() { return cfg; }

    @Override
    public Tensor predict(Tensor latent, float[] timesteps, Tensor context) {
        return predict(latent, timesteps, context, null);
    }

    /**
     * The noise prediction, optionally reporting intermediate activations to {@code hook}.
     *
     * @param latent    (B,in_channels,h,w), any h, w ≥ {@link UNetConfig#minSide()}
     * @param timesteps B values (or one, used for every item)
     * @param context   (B,S,cross_attention_dim)
     * @return (B,out_channels,h,w)
     */
    public Tensor predict(Tensor latent, float[] timesteps, Tensor context, FeatureHook hook) {
        checkInputs(latent, timesteps, context);
        int b = latent.dimInt(0);
        float[] t = timesteps.length == b ? timesteps : filled(b, timesteps[0]);
        FeatureHook report = hook == null ? (n, a) -> {} : hook;

        // time embedding (B,4·C0); the ResNets all use SiLU of it
        Tensor feats = be.upload(Tensor.of(timestepFeatures(t, cfg.timeProjDim(), cfg.flipSinToCos(), cfg.freqShift()),
                b, cfg.timeProjDim()));
        Tensor temb = timeLinear2.forward(be, be.silu(timeLinear1.forward(be, feats)));
        Tensor tembAct = be.silu(temb);

        Tensor h = convIn.forward(be, latent);
        report.accept("conv_in", h);
        Deque<Tensor> skips = new ArrayDeque<>();
        skips.push(h);
        for (int i = 0; i < down.length; i++) {
            Level lv = down[i];
            for (int j = 0; j < lv.resnets.length; j++) {
                h = lv.resnets[j].forward(be, h, tembAct);
                if (lv.attentions != null) h = lv.attentions[j].forward(be, h, context);
                skips.push(h);
            }
            if (lv.resample != null) {
                h = lv.resample.forward(be, h);
                skips.push(h);
            }
            report.accept("down_blocks." + i, h);
        }

        h = midResnet0.forward(be, h, tembAct);
        h = midAttention.forward(be, h, context);
        h = midResnet1.forward(be, h, tembAct);
        report.accept("mid_block", h);

        for (int i = 0; i < up.length; i++) {
            Level lv = up[i];
            for (int j = 0; j < lv.resnets.length; j++) {
                h = lv.resnets[j].forward(be, be.concatChannels(h, skips.pop()), tembAct);
                if (lv.attentions != null) h = lv.attentions[j].forward(be, h, context);
            }
            if (lv.resample != null) h = lv.resample.forward(be, upsampleToSkip(h, skips.peek()));
            report.accept("up_blocks." + i, h);
        }
        return convOut.forward(be, normOut.forward(be, h, true));
    }

    /**
     * diffusers' upsampler: nearest ×2 where the latent halves evenly; otherwise (a side not a multiple of
     * {@link UNetConfig#sizeMultiple()}) nearest to the size of the skip the next level concatenates, e.g. 3 → 5.
     */
    private Tensor upsampleToSkip(Tensor h, Tensor nextSkip) {
        int th = nextSkip.dimInt(2), tw = nextSkip.dimInt(3);
        return th == 2 * h.dimInt(2) && tw == 2 * h.dimInt(3) ? be.upsampleNearest2x(h) : be.upsampleNearest(h, th, tw);
    }

    private void checkInputs(Tensor latent, float[] timesteps, Tensor context) {
        cfg.checkLatent(latent.shape());
        UNetConfig.checkTimesteps(timesteps.length, latent.dim(0));
        cfg.checkContext(context.shape(), latent.dim(0));
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        Arrays.fill(a, v);
        return a;
    }

    /**
     * diffusers' {@code get_timestep_embedding}: frequencies f_i = exp(−ln(10000)·i/(dim/2 − shift)), features
     * [sin(t·f) | cos(t·f)], halves swapped when flipSinToCos. The exponent and the products are rounded to
     * float32 exactly as PyTorch does them, so features at t≈1000 agree to float32 resolution.
     *
     * @return (B,dim) row-major
     */
    public static float[] timestepFeatures(float[] t, int dim, boolean flipSinToCos, float freqShift) {
        int half = dim / 2;
        float[] freq = new float[half];
        float logMax = (float) -Math.log(10000.0);
        float denom = half - freqShift;
        for (int i = 0; i < half; i++) freq[i] = (float) Math.exp((logMax * i) / denom);
        float[] out = new float[t.length * dim];
        for (int b = 0; b < t.length; b++) {
            int o = b * dim;
            for (int i = 0; i < half; i++) {
                float arg = t[b] * freq[i];
                float sin = (float) Math.sin(arg), cos = (float) Math.cos(arg);
                out[o + i] = flipSinToCos ? cos : sin;
                out[o + half + i] = flipSinToCos ? sin : cos;
            }
            // an odd width leaves the last feature zero, as diffusers pads it
        }
        return out;
    }
}
