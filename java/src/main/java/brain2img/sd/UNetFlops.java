package brain2img.sd;

/**
 * Floating-point operations of one U-Net forward pass for one latent, counted analytically from the config:
 * 2 per multiply-add of every convolution, linear layer and attention product (q·kᵀ and p·v). Norms,
 * activations, softmax and additions are left out (they are a fraction of a percent).
 */
public final class UNetFlops {
    private UNetFlops() {}

    /** total: all counted FLOPs; attention: the q·kᵀ and p·v products alone. */
    public record Count(long total, long attention) {
        Count plus(Count o) { return new Count(total + o.total, attention + o.attention); }
    }

    /** For one latent of h×w (any size: each downsampler maps a side n to {@link UNetConfig#downsampled}) and a context of contextLen rows. */
    public static Count of(UNetConfig cfg, int h, int w, int contextLen) {
        int[] ch = cfg.blockOutChannels();
        int levels = cfg.levels();
        long c0 = ch[0];
        long temb = cfg.timeEmbedDim();
        Count n = new Count(2 * (cfg.timeProjDim() * temb + temb * temb), 0);
        n = n.plus(conv(cfg.inChannels(), c0, cfg.convInKernel(), (long) h * w));
        int[] hs = new int[levels], ws = new int[levels];         // the side lengths of each level
        hs[0] = h;
        ws[0] = w;
        for (int i = 1; i < levels; i++) {
            hs[i] = cfg.downsampled(hs[i - 1]);
            ws[i] = cfg.downsampled(ws[i - 1]);
        }
        int hh = h, ww = w;
        for (int i = 0; i < levels; i++) {
            long px = (long) hh * ww;
            for (int j = 0; j < cfg.layersPerBlock()[i]; j++) {
                n = n.plus(resnet(cfg, j == 0 ? (i == 0 ? ch[0] : ch[i - 1]) : ch[i], ch[i], px));
                if (cfg.downAttention()[i]) n = n.plus(transformer(cfg, ch[i], px, contextLen, i));
            }
            if (i < levels - 1) {
                hh = hs[i + 1];
                ww = ws[i + 1];
                n = n.plus(conv(ch[i], ch[i], 3, (long) hh * ww));
            }
        }
        long pxTop = (long) hh * ww;
        int top = ch[levels - 1];
        n = n.plus(resnet(cfg, top, top, pxTop)).plus(transformer(cfg, top, pxTop, contextLen, levels - 1))
                .plus(resnet(cfg, top, top, pxTop));
        int prev = top;
        for (int i = 0; i < levels; i++) {
            int level = levels - 1 - i;
            long px = (long) hh * ww;
            int out = ch[level], layers = cfg.layersPerBlock()[level] + 1;
            for (int j = 0; j < layers; j++) {
                int skip = j == layers - 1 ? ch[Math.max(level - 1, 0)] : out;
                n = n.plus(resnet(cfg, (j == 0 ? prev : out) + skip, out, px));
                if (cfg.upAttention()[i]) n = n.plus(transformer(cfg, out, px, contextLen, level));
            }
            if (i < levels - 1) {
                hh = hs[level - 1];
                ww = ws[level - 1];
                n = n.plus(conv(out, out, 3, (long) hh * ww));
            }
            prev = out;
        }
        return n.plus(conv(c0, cfg.outChannels(), cfg.convOutKernel(), (long) h * w));
    }

    private static Count conv(long in, long out, int k, long outPixels) {
        return new Count(2 * in * out * k * k * outPixels, 0);
    }

    private static Count linear(long rows, long in, long out) {
        return new Count(2 * rows * in * out, 0);
    }

    private static Count resnet(UNetConfig cfg, long in, long out, long px) {
        Count n = conv(in, out, 3, px).plus(conv(out, out, 3, px)).plus(linear(1, cfg.timeEmbedDim(), out));
        return in == out ? n : n.plus(conv(in, out, 1, px));
    }

    private static Count transformer(UNetConfig cfg, long c, long tokens, long ctx, int level) {
        Count n = linear(tokens, c, c).plus(linear(tokens, c, c));              // proj_in, proj_out
        for (int b = 0; b < cfg.transformerLayers()[level]; b++) {
            n = n.plus(linear(tokens, c, 3 * c)).plus(attention(tokens, tokens, c)).plus(linear(tokens, c, c));
            n = n.plus(linear(tokens, c, c)).plus(linear(ctx, cfg.crossAttentionDim(), 2 * c))
                    .plus(attention(tokens, ctx, c)).plus(linear(tokens, c, c));
            n = n.plus(linear(tokens, c, 8 * c)).plus(linear(tokens, 4 * c, c));
        }
        return n;
    }

    /** q·kᵀ and p·v over all heads: 2 · 2·Lq·Lk·C. */
    private static Count attention(long lq, long lk, long c) {
        long f = 2 * 2 * lq * lk * c;
        return new Count(f, f);
    }
}
