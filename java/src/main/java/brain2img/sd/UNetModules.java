package brain2img.sd;

import brain2img.backend.Backend;
import brain2img.tensor.Tensor;

/**
 * The layers of {@link UNet}, each named and shaped like its diffusers checkpoint entries. Constructors only
 * fetch parameters from a {@link Params}; {@code forward} methods run on a {@link Backend}.
 * Shapes: B batch, C channels, H×W spatial, L = H·W tokens, S context rows, D context width.
 */
final class UNetModules {
    private UNetModules() {}

    /** Where constructors get their parameters: a loader, or a recorder of names and shapes. */
    @FunctionalInterface
    interface Params {
        Tensor get(String name, long... shape);
    }

    /** PyTorch Linear: weight (out,in), bias (out) or none. */
    record Linear(Tensor weight, Tensor bias) {
        static Linear of(Params p, String name, int in, int out, boolean bias) {
            return new Linear(p.get(name + ".weight", out, in), bias ? p.get(name + ".bias", out) : null);
        }

        /** (...,in) → (...,out) */
        Tensor forward(Backend be, Tensor x) {
            return be.linear(x, weight, bias);
        }
    }

    /**
     * Conv2d with bias and a square kernel; padLo pads top and left, padHi bottom and right (symmetric
     * (k-1)/2 unless a downsampler asks for right/bottom only).
     */
    record Conv(Tensor weight, Tensor bias, int stride, int padLo, int padHi) {
        static Conv of(Params p, String name, int in, int out, int k, int stride) {
            return of(p, name, in, out, k, stride, (k - 1) / 2, (k - 1) / 2);
        }

        static Conv of(Params p, String name, int in, int out, int k, int stride, int padLo, int padHi) {
            return new Conv(p.get(name + ".weight", out, in, k, k), p.get(name + ".bias", out), stride, padLo, padHi);
        }

        /** (B,in,H,W) → (B,out,H',W') */
        Tensor forward(Backend be, Tensor x) {
            return be.conv2d(x, weight, bias, stride, stride, padLo, padHi, padLo, padHi);
        }
    }

    /** GroupNorm with affine parameters; SiLU after it where the network applies one. */
    record GroupNorm(Tensor gamma, Tensor beta, int groups, float eps) {
        static GroupNorm of(Params p, String name, int channels, int groups, float eps) {
            return new GroupNorm(p.get(name + ".weight", channels), p.get(name + ".bias", channels), groups, eps);
        }

        Tensor forward(Backend be, Tensor x, boolean silu) {
            return be.groupNorm(x, groups, gamma, beta, eps, silu);
        }
    }

    record LayerNorm(Tensor gamma, Tensor beta) {
        static LayerNorm of(Params p, String name, int width) {
            return new LayerNorm(p.get(name + ".weight", width), p.get(name + ".bias", width));
        }

        Tensor forward(Backend be, Tensor x) {
            return be.layerNorm(x, gamma, beta, UNetConfig.LAYER_NORM_EPS);
        }
    }

    /**
     * ResnetBlock2D: norm1+SiLU → conv1 → + time_emb_proj(SiLU(temb)) → norm2+SiLU → conv2, plus the input
     * (through a 1×1 conv_shortcut when the width changes). (B,in,H,W) → (B,out,H,W).
     */
    static final class Resnet {
        final GroupNorm norm1, norm2;
        final Conv conv1, conv2, shortcut;
        final Linear timeProj;

        Resnet(Params p, String name, int in, int out, UNetConfig cfg) {
            norm1 = GroupNorm.of(p, name + ".norm1", in, cfg.normGroups(), cfg.normEps());
            conv1 = Conv.of(p, name + ".conv1", in, out, 3, 1);
            timeProj = Linear.of(p, name + ".time_emb_proj", cfg.timeEmbedDim(), out, true);
            norm2 = GroupNorm.of(p, name + ".norm2", out, cfg.normGroups(), cfg.normEps());
            conv2 = Conv.of(p, name + ".conv2", out, out, 3, 1);
            shortcut = in == out ? null : Conv.of(p, name + ".conv_shortcut", in, out, 1, 1);
        }

        /** x (B,in,H,W); tembAct = SiLU(time embedding) (B,4·C0). */
        Tensor forward(Backend be, Tensor x, Tensor tembAct) {
            Tensor h = conv1.forward(be, norm1.forward(be, x, true));
            Tensor t = timeProj.forward(be, tembAct);                      // (B,out)
            h = be.add(h, t.reshape(t.dim(0), t.dim(1), 1, 1));            // broadcast over H,W
            h = conv2.forward(be, norm2.forward(be, h, true));
            return be.add(shortcut == null ? x : shortcut.forward(be, x), h);
        }
    }

    /** Multi-head attention with packed heads: to_q/to_k/to_v without bias, to_out.0 with bias. */
    static final class Attention {
        final Linear q, k, v, out;
        final int heads;
        final float scale;

        Attention(Params p, String name, int width, int contextWidth, int heads) {
            q = Linear.of(p, name + ".to_q", width, width, false);
            k = Linear.of(p, name + ".to_k", contextWidth, width, false);
            v = Linear.of(p, name + ".to_v", contextWidth, width, false);
            out = Linear.of(p, name + ".to_out.0", width, width, true);
            this.heads = heads;
            this.scale = (float) (1.0 / Math.sqrt((double) width / heads));
        }

        /** x (B,L,C), context (B,S,D) — x itself for self-attention → (B,L,C). */
        Tensor forward(Backend be, Tensor x, Tensor context) {
            Tensor o = be.attention(q.forward(be, x), k.forward(be, context), v.forward(be, context), heads, scale, null, false);
            return out.forward(be, o);
        }
    }

    /**
     * BasicTransformerBlock: pre-LayerNorm self-attention, cross-attention to the context, and a GEGLU
     * feed-forward (C → 2·4C, value·GELU(gate), 4C → C), each added to its input. (B,L,C) → (B,L,C).
     */
    static final class TransformerBlock {
        final LayerNorm norm1, norm2, norm3;
        final Attention attn1, attn2;
        final Linear ffIn, ffOut;

        TransformerBlock(Params p, String name, int width, int contextWidth, int heads) {
            norm1 = LayerNorm.of(p, name + ".norm1", width);
            attn1 = new Attention(p, name + ".attn1", width, width, heads);
            norm2 = LayerNorm.of(p, name + ".norm2", width);
            attn2 = new Attention(p, name + ".attn2", width, contextWidth, heads);
            norm3 = LayerNorm.of(p, name + ".norm3", width);
            ffIn = Linear.of(p, name + ".ff.net.0.proj", width, 8 * width, true);
            ffOut = Linear.of(p, name + ".ff.net.2", 4 * width, width, true);
        }

        Tensor forward(Backend be, Tensor h, Tensor context) {
            Tensor n = norm1.forward(be, h);
            h = be.add(h, attn1.forward(be, n, n));
            h = be.add(h, attn2.forward(be, norm2.forward(be, h), context));
            Tensor f = ffOut.forward(be, be.geglu(ffIn.forward(be, norm3.forward(be, h))));
            return be.add(h, f);
        }
    }

    /**
     * Transformer2DModel (SpatialTransformer): GroupNorm (eps 1e-6) → proj_in (1×1 conv, or linear after the
     * reshape in SD v2) → transformer blocks over the H·W tokens → proj_out, plus the input. (B,C,H,W) → same.
     */
    static final class SpatialTransformer {
        final GroupNorm norm;
        final Tensor projInW, projInB, projOutW, projOutB;
        final TransformerBlock[] blocks;
        final boolean linear;

        SpatialTransformer(Params p, String name, int width, int contextWidth, int heads, int layers, UNetConfig cfg) {
            linear = cfg.linearProjection();
            norm = GroupNorm.of(p, name + ".norm", width, cfg.normGroups(), UNetConfig.TRANSFORMER_NORM_EPS);
            long[] w = linear ? new long[]{width, width} : new long[]{width, width, 1, 1};
            projInW = p.get(name + ".proj_in.weight", w);
            projInB = p.get(name + ".proj_in.bias", width);
            blocks = new TransformerBlock[layers];
            for (int i = 0; i < layers; i++) {
                blocks[i] = new TransformerBlock(p, name + ".transformer_blocks." + i, width, contextWidth, heads);
            }
            projOutW = p.get(name + ".proj_out.weight", w);
            projOutB = p.get(name + ".proj_out.bias", width);
        }

        Tensor forward(Backend be, Tensor x, Tensor context) {
            long hh = x.dim(2), ww = x.dim(3);
            Tensor n = norm.forward(be, x, false);
            Tensor tokens;                                                   // (B,L,C)
            if (linear) {
                tokens = be.linear(toTokens(be, n), projInW, projInB);
            } else {
                tokens = toTokens(be, be.conv2d(n, projInW, projInB, 1, 1, 0, 0, 0, 0));
            }
            for (TransformerBlock blk : blocks) tokens = blk.forward(be, tokens, context);
            Tensor y;
            if (linear) {
                y = toImage(be, be.linear(tokens, projOutW, projOutB), hh, ww);
            } else {
                y = be.conv2d(toImage(be, tokens, hh, ww), projOutW, projOutB, 1, 1, 0, 0, 0, 0);
            }
            return be.add(y, x);
        }

        /** (B,C,H,W) → (B,H·W,C) */
        private static Tensor toTokens(Backend be, Tensor x) {
            return be.transposeLast2(x.reshape(x.dim(0), x.dim(1), x.dim(2) * x.dim(3)));
        }

        /** (B,H·W,C) → (B,C,H,W) */
        private static Tensor toImage(Backend be, Tensor t, long h, long w) {
            return be.transposeLast2(t).reshape(t.dim(0), t.dim(2), h, w);
        }
    }
}
