package brain2img.sd;

import brain2img.backend.Backend;
import brain2img.io.FormatException;
import brain2img.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The Stable Diffusion v1 autoencoder (diffusers {@code AutoencoderKL}): images (B,3,H,W) in [-1,1] to the
 * posterior over latents (B,4,H/8,W/8) and scaled latents back to images. Module fields are named like the
 * diffusers keys they load; every weight is uploaded to the backend once, at load time.
 * Shapes in comments use SD v1 widths C0..C3 = 128, 256, 512, 512 (block_out_channels) and L = 4 latent channels.
 */
public final class Vae {

    /** The encoder's diagonal Gaussian: mean (unscaled) and log-variance clamped to [-30, 20], both (B,L,h,w). */
    public record Posterior(Tensor mean, Tensor logvar) {}

    private final VaeConfig cfg;
    private final Backend be;
    private final Encoder encoder;
    private final Decoder decoder;
    // quant_conv (2L,2L,1,1) split by output rows into its mean and log-variance halves, so the two moments
    // come out as separate tensors without a channel split.
    private final Conv quantConvMean, quantConvLogvar;
    private final Conv postQuantConv; // (L,L,1,1)

    private Vae(Params p, VaeConfig cfg) {
        this.cfg = cfg;
        this.be = p.be;
        int l = cfg.latentChannels();
        this.encoder = new Encoder(p.at("encoder"), cfg);
        this.decoder = new Decoder(p.at("decoder"), cfg);
        Tensor qw = p.host("quant_conv.weight", 2L * l, 2L * l, 1, 1), qb = p.host("quant_conv.bias", 2L * l);
        this.quantConvMean = new Conv(be, be.upload(qw.slice(0, l)), be.upload(qb.slice(0, l)), 1, 0, 0);
        this.quantConvLogvar = new Conv(be, be.upload(qw.slice(l, 2L * l)), be.upload(qb.slice(l, 2L * l)), 1, 0, 0);
        this.postQuantConv = Conv.load(p.at("post_quant_conv"), l, l, 1, 1, 0, 0);
    }

    /** Loads the VAE of a checkpoint (either layout) with its {@code vae/config.json}. */
    public static Vae load(SdSource src, Backend be) {
        VaeConfig cfg = VaeConfig.from(src.config(SdSource.VAE));
        try {
            return load(VaeKeys.open(src, cfg), cfg, be);
        } catch (FormatException e) {
            if (src.layout() != SdSource.Layout.SINGLE_FILE) throw e;
            throw new FormatException(e.getMessage() + " (a single-file checkpoint takes its VAE config from --config DIR,"
                    + " else the built-in SD v1 defaults)", e);
        }
    }

    /** Loads from tensors under diffusers names; a missing or mis-shaped key is named in the error. */
    public static Vae load(TensorSource tensors, VaeConfig cfg, Backend be) {
        return new Vae(new Params(tensors, be, ""), cfg);
    }

    public VaeConfig config() { return cfg; }

    public float scalingFactor() { return cfg.scalingFactor(); }

    /** image (B,3,H,W) in [-1,1], H and W multiples of 8 → posterior over the unscaled latent (B,L,H/8,W/8). */
    public Posterior encode(Tensor image) {
        checkInput(image, cfg.inChannels(), cfg.downFactor(), "image");
        Tensor h = encoder.forward(be.upload(image)); // (B,2L,h,w), before quant_conv
        Tensor mean = quantConvMean.forward(h);
        Tensor logvar = be.clamp(quantConvLogvar.forward(h), -30f, 20f);
        return new Posterior(mean, logvar);
    }

    /** scaledLatent (B,L,h,w), i.e. the unscaled latent times scaling_factor → image (B,3,8h,8w), not clamped. */
    public Tensor decode(Tensor scaledLatent) {
        checkInput(scaledLatent, cfg.latentChannels(), 1, "latent");
        Tensor z = be.scale(be.upload(scaledLatent), 1f / cfg.scalingFactor());
        return decoder.forward(postQuantConv.forward(z));
    }

    private static void checkInput(Tensor t, int channels, int multiple, String what) {
        if (t.rank() != 4 || t.dim(1) != channels || t.dim(2) % multiple != 0 || t.dim(3) % multiple != 0
                || t.dim(0) < 1 || t.dim(2) < 1 || t.dim(3) < 1) {
            throw new IllegalArgumentException("VAE " + what + " must be (B," + channels + ",H,W)"
                    + (multiple > 1 ? " with H and W multiples of " + multiple : "") + ", got " + t.shapeString());
        }
    }

    // ------------------------------------------------------------------ weights

    /** Tensors under a key prefix, checked for shape and uploaded once. */
    private record Params(TensorSource ts, Backend be, String prefix) {
        Params at(String sub) { return new Params(ts, be, prefix + sub + "."); }

        Tensor host(String name, long... shape) { return ts.get(prefix + name, shape); }

        Tensor get(String name, long... shape) { return be.upload(host(name, shape)); }
    }

    // ------------------------------------------------------------------ modules

    /** A 2-D convolution with bias, square kernel, equal stride; padding per side (top, bottom, left, right). */
    private record Conv(Backend be, Tensor weight, Tensor bias, int stride, int padTopLeft, int padBottomRight) {
        static Conv load(Params p, int out, int in, int k, int stride, int padTopLeft, int padBottomRight) {
            return new Conv(p.be, p.get("weight", out, in, k, k), p.get("bias", out), stride, padTopLeft, padBottomRight);
        }

        /** 3×3, stride 1, "same" padding. */
        static Conv same3(Params p, int out, int in) { return load(p, out, in, 3, 1, 1, 1); }

        Tensor forward(Tensor x) {
            return be.conv2d(x, weight, bias, stride, stride, padTopLeft, padBottomRight, padTopLeft, padBottomRight);
        }
    }

    /** GroupNorm over C channels (eps 1e-6), optionally followed by SiLU. */
    private record Norm(Backend be, Tensor weight, Tensor bias, int groups) {
        static Norm load(Params p, int c, int groups) {
            return new Norm(p.be, p.get("weight", c), p.get("bias", c), groups);
        }

        Tensor forward(Tensor x, boolean silu) {
            return be.groupNorm(x, groups, weight, bias, VaeConfig.NORM_EPS, silu);
        }
    }

    /** ResnetBlock2D without time embedding: x + conv2(silu(norm2(conv1(silu(norm1(x)))))), (B,in,H,W) → (B,out,H,W). */
    private static final class Resnet {
        final Backend be;
        final Norm norm1, norm2;
        final Conv conv1, conv2;
        final Conv convShortcut; // 1×1, only when in ≠ out

        Resnet(Params p, int in, int out, int groups) {
            be = p.be;
            norm1 = Norm.load(p.at("norm1"), in, groups);
            conv1 = Conv.same3(p.at("conv1"), out, in);
            norm2 = Norm.load(p.at("norm2"), out, groups);
            conv2 = Conv.same3(p.at("conv2"), out, out);
            convShortcut = in == out ? null : Conv.load(p.at("conv_shortcut"), out, in, 1, 1, 0, 0);
        }

        Tensor forward(Tensor x) {
            Tensor h = conv1.forward(norm1.forward(x, true));
            h = conv2.forward(norm2.forward(h, true));
            return be.add(convShortcut == null ? x : convShortcut.forward(x), h);
        }
    }

    /** Mid-block self-attention over the H·W positions: one head, scale 1/√C, residual. (B,C,H,W) → same. */
    private static final class Attention {
        final Backend be;
        final int channels;
        final Norm groupNorm;
        final Tensor toQ, toK, toV, toOut; // (C,C) linear weights
        final Tensor toQBias, toKBias, toVBias, toOutBias; // (C)

        Attention(Params p, int c, int groups) {
            be = p.be;
            channels = c;
            groupNorm = Norm.load(p.at("group_norm"), c, groups);
            toQ = p.get("to_q.weight", c, c);
            toQBias = p.get("to_q.bias", c);
            toK = p.get("to_k.weight", c, c);
            toKBias = p.get("to_k.bias", c);
            toV = p.get("to_v.weight", c, c);
            toVBias = p.get("to_v.bias", c);
            toOut = p.get("to_out.0.weight", c, c);
            toOutBias = p.get("to_out.0.bias", c);
        }

        Tensor forward(Tensor x) {
            long b = x.dim(0), hh = x.dim(2), ww = x.dim(3);
            Tensor h = groupNorm.forward(x, false);
            Tensor seq = be.transposeLast2(h.reshape(b, channels, hh * ww)); // (B,HW,C)
            Tensor q = be.linear(seq, toQ, toQBias), k = be.linear(seq, toK, toKBias), v = be.linear(seq, toV, toVBias);
            Tensor a = be.attention(q, k, v, 1, (float) (1 / Math.sqrt(channels)), null, false); // (B,HW,C)
            Tensor o = be.transposeLast2(be.linear(a, toOut, toOutBias)); // (B,C,HW)
            return be.add(x, o.reshape(b, channels, hh, ww));
        }
    }

    /** resnets.0 → attentions.0 → resnets.1 at the lowest resolution, C3 channels. */
    private static final class MidBlock {
        final Resnet resnet0, resnet1;
        final Attention attention;

        MidBlock(Params p, int c, int groups) {
            resnet0 = new Resnet(p.at("resnets.0"), c, c, groups);
            attention = new Attention(p.at("attentions.0"), c, groups);
            resnet1 = new Resnet(p.at("resnets.1"), c, c, groups);
        }

        Tensor forward(Tensor x) {
            return resnet1.forward(attention.forward(resnet0.forward(x)));
        }
    }

    /** One level: ResNets, then (except at the last level of the encoder / decoder) a resampler. */
    private record Level(List<Resnet> resnets, Conv resample, boolean upsample, Backend be) {
        Tensor forward(Tensor x) {
            for (Resnet r : resnets) x = r.forward(x);
            if (resample == null) return x;
            return resample.forward(upsample ? be.upsampleNearest2x(x) : x);
        }
    }

    /** conv_in, the down levels, the mid block, norm + SiLU, conv_out to the 2L moments. */
    private static final class Encoder {
        final Conv convIn, convOut;
        final List<Level> downBlocks = new ArrayList<>();
        final MidBlock midBlock;
        final Norm convNormOut;

        Encoder(Params p, VaeConfig cfg) {
            int g = cfg.normNumGroups(), n = cfg.levels(), top = cfg.channels(n - 1);
            convIn = Conv.same3(p.at("conv_in"), cfg.channels(0), cfg.inChannels());
            int prev = cfg.channels(0);
            for (int i = 0; i < n; i++) {
                Params lp = p.at("down_blocks." + i);
                int out = cfg.channels(i);
                List<Resnet> resnets = new ArrayList<>();
                for (int j = 0; j < cfg.layersPerBlock(); j++) {
                    resnets.add(new Resnet(lp.at("resnets." + j), j == 0 ? prev : out, out, g));
                }
                // Downsampler: pad right and bottom by one, then 3×3 stride 2 without padding (H → H/2).
                Conv down = i < n - 1 ? Conv.load(lp.at("downsamplers.0.conv"), out, out, 3, 2, 0, 1) : null;
                downBlocks.add(new Level(resnets, down, false, p.be));
                prev = out;
            }
            midBlock = new MidBlock(p.at("mid_block"), top, g);
            convNormOut = Norm.load(p.at("conv_norm_out"), top, g);
            convOut = Conv.same3(p.at("conv_out"), 2 * cfg.latentChannels(), top);
        }

        /** (B,3,H,W) → moments before quant_conv, (B,2L,H/8,W/8). */
        Tensor forward(Tensor x) {
            Tensor h = convIn.forward(x); // (B,C0,H,W)
            for (Level l : downBlocks) h = l.forward(h); // (B,C3,H/8,W/8)
            h = midBlock.forward(h);
            return convOut.forward(convNormOut.forward(h, true));
        }
    }

    /** conv_in, the mid block, the up levels, norm + SiLU, conv_out: (B,L,h,w) after post_quant_conv → (B,3,8h,8w). */
    private static final class Decoder {
        final Conv convIn, convOut;
        final MidBlock midBlock;
        final List<Level> upBlocks = new ArrayList<>();
        final Norm convNormOut;

        Decoder(Params p, VaeConfig cfg) {
            int g = cfg.normNumGroups(), n = cfg.levels(), top = cfg.channels(n - 1);
            convIn = Conv.same3(p.at("conv_in"), top, cfg.latentChannels());
            midBlock = new MidBlock(p.at("mid_block"), top, g);
            int prev = top;
            for (int i = 0; i < n; i++) {
                Params lp = p.at("up_blocks." + i);
                int out = cfg.channels(n - 1 - i); // widths in reverse: lowest resolution first
                List<Resnet> resnets = new ArrayList<>();
                for (int j = 0; j <= cfg.layersPerBlock(); j++) {
                    resnets.add(new Resnet(lp.at("resnets." + j), j == 0 ? prev : out, out, g));
                }
                // Upsampler: nearest ×2, then 3×3 "same" conv.
                Conv up = i < n - 1 ? Conv.same3(lp.at("upsamplers.0.conv"), out, out) : null;
                upBlocks.add(new Level(resnets, up, true, p.be));
                prev = out;
            }
            convNormOut = Norm.load(p.at("conv_norm_out"), cfg.channels(0), g);
            convOut = Conv.same3(p.at("conv_out"), cfg.outChannels(), cfg.channels(0));
        }

        Tensor forward(Tensor z) {
            Tensor h = midBlock.forward(convIn.forward(z)); // (B,C3,h,w)
            for (Level l : upBlocks) h = l.forward(h); // (B,C0,8h,8w)
            return convOut.forward(convNormOut.forward(h, true));
        }
    }
}
