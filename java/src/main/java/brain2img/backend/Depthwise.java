package brain2img.backend;

import brain2img.util.Parallel;

/**
 * Depthwise convolution on the CPU (one input channel per group, EfficientNet's k×k layers): a GEMM per
 * channel would have a single row, so each output plane is accumulated directly, tap by tap.
 */
final class Depthwise {
    private Depthwise() {}

    /**
     * x (B,C,H,W), w (C·m,1,kh,kw), out (B,C·m,ho,wo) zeroed; output channel o reads input channel o/m.
     */
    static void conv(float[] x, float[] w, float[] out, int bsz, int ch, int m, int hh, int ww, int kh, int kw,
                     int sh, int sw, int pt, int pl, int ho, int wo) {
        int oc = ch * m;
        Parallel.forRange(bsz * oc, 4, (from, to) -> {
            for (int bo = from; bo < to; bo++) {
                int b = bo / oc, o = bo % oc;
                int in = (b * ch + o / m) * hh * ww, dst = bo * ho * wo;
                for (int i = 0; i < kh; i++) {
                    for (int j = 0; j < kw; j++) {
                        float wt = w[(o * kh + i) * kw + j];
                        // output columns whose tap j lands inside the row: 0 ≤ q·sw − pl + j < ww
                        int q0 = Math.max(0, ceilDiv(pl - j, sw)), q1 = Math.min(wo, ceilDiv(ww + pl - j, sw));
                        for (int r = 0; r < ho; r++) {
                            int y = r * sh - pt + i;
                            if (y < 0 || y >= hh) continue;
                            int src = in + y * ww - pl + j, orow = dst + r * wo;
                            for (int q = q0; q < q1; q++) out[orow + q] += wt * x[src + q * sw];
                        }
                    }
                }
            }
        });
    }

    static int ceilDiv(int a, int b) {
        return Math.floorDiv(a + b - 1, b);
    }
}
