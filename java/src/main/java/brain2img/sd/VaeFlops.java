package brain2img.sd;

/**
 * Floating-point operations of the VAE for one image, counted analytically from the config like {@link UNetFlops}:
 * 2 per multiply-add of every convolution, linear layer and the mid-block attention products; norms and
 * element-wise work left out. SD v1's decoder to 512² is 2.51 TFLOP.
 */
public final class VaeFlops {
    private VaeFlops() {}

    /** Decoding a latent of h×w (post_quant_conv included) to an image of (8h)×(8w). */
    public static long decode(VaeConfig cfg, int h, int w) {
        int n = cfg.levels(), top = cfg.channels(n - 1), l = cfg.latentChannels();
        long px = (long) h * w;
        long f = conv(l, l, 1, px) + conv(l, top, 3, px) + mid(top, px);
        int prev = top;
        for (int i = 0; i < n; i++) {
            int out = cfg.channels(n - 1 - i);
            for (int j = 0; j <= cfg.layersPerBlock(); j++) f += resnet(j == 0 ? prev : out, out, px);
            if (i < n - 1) {
                px *= 4;
                f += conv(out, out, 3, px);
            }
            prev = out;
        }
        return f + conv(cfg.channels(0), cfg.outChannels(), 3, px);
    }

    /** Encoding an image of H×W (multiples of the down factor) to the posterior moments (quant_conv included). */
    public static long encode(VaeConfig cfg, int height, int width) {
        int n = cfg.levels(), top = cfg.channels(n - 1), l = cfg.latentChannels();
        long px = (long) height * width;
        long f = conv(cfg.inChannels(), cfg.channels(0), 3, px);
        int prev = cfg.channels(0);
        for (int i = 0; i < n; i++) {
            int out = cfg.channels(i);
            for (int j = 0; j < cfg.layersPerBlock(); j++) f += resnet(j == 0 ? prev : out, out, px);
            if (i < n - 1) {
                px /= 4;
                f += conv(out, out, 3, px);
            }
            prev = out;
        }
        return f + mid(top, px) + conv(top, 2L * l, 3, px) + conv(2L * l, 2L * l, 1, px);
    }

    private static long conv(long in, long out, int k, long outPixels) {
        return 2 * in * out * k * k * outPixels;
    }

    private static long resnet(long in, long out, long px) {
        long f = conv(in, out, 3, px) + conv(out, out, 3, px);
        return in == out ? f : f + conv(in, out, 1, px);
    }

    /** Two ResNets around single-head self-attention over the px positions: q, k, v, out projections and q·kᵀ, p·v. */
    private static long mid(long c, long px) {
        return 2 * resnet(c, c, px) + 4 * 2 * px * c * c + 2 * 2 * px * px * c;
    }
}
