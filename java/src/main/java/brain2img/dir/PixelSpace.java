package brain2img.dir;

import brain2img.vision.VisionNet;

/**
 * The space images are optimised in: the network's colour order, 0–255 scale, its mean subtracted — Caffe's
 * input space, in which the lab's step sizes (lr 2, blur σ in pixels) and bounds [−mean, 255 − mean] are
 * stated. For Caffe weights it is the network input itself; for torchvision weights (RGB in [0,1], then
 * (v − mean)/std) the input is x / (255·std) per channel. 0 is the mean grey, the start image.
 */
public record PixelSpace(float[] toInput, float[] lo, float[] hi) {

    public static PixelSpace of(VisionNet.InputSpace s) {
        float[] scale = new float[3], lo = new float[3], hi = new float[3];
        for (int c = 0; c < 3; c++) {
            float mean255 = s.bgr255() ? s.mean()[c] : 255 * s.mean()[c];
            scale[c] = s.bgr255() ? 1f / s.std()[c] : 1f / (255 * s.std()[c]);
            lo[c] = -mean255;
            hi[c] = 255 - mean255;
        }
        return new PixelSpace(scale, lo, hi);
    }

    /** Per-element bounds for one image of h×w. */
    public float[][] bounds(int h, int w) {
        int plane = h * w;
        float[] l = new float[3 * plane], u = new float[3 * plane];
        for (int c = 0; c < 3; c++) {
            java.util.Arrays.fill(l, c * plane, (c + 1) * plane, lo[c]);
            java.util.Arrays.fill(u, c * plane, (c + 1) * plane, hi[c]);
        }
        return new float[][]{l, u};
    }

    /** Optimisation-space values of images (n,3,h,w) flattened → network input, in place. */
    public void toInput(float[] v, int plane) {
        scale(v, plane, toInput);
    }

    /** Network-input values → optimisation space, in place. */
    public void fromInput(float[] v, int plane) {
        float[] inv = new float[3];
        for (int c = 0; c < 3; c++) inv[c] = 1 / toInput[c];
        scale(v, plane, inv);
    }

    /** ∂L/∂input → ∂L/∂x in the optimisation space (the chain rule through the per-channel scale), in place. */
    public void gradientFromInput(float[] g, int plane) {
        scale(g, plane, toInput);
    }

    private static void scale(float[] v, int plane, float[] s) {
        for (int i = 0; i < v.length; i++) v[i] *= s[(i / plane) % 3];
    }

    /**
     * Network input (n,3,h,w) flattened → RGB in [0,1] (clipped), the same layout: the inverse of the stimulus
     * preparation (Caffe: BGR 0–255 minus the mean; torchvision: RGB normalised by mean and std).
     */
    public static float[] rgb01(VisionNet.InputSpace sp, float[] input, int plane) {
        float[] out = new float[input.length];
        for (int i = 0; i < input.length; i += 3 * plane) {
            for (int c = 0; c < 3; c++) {
                int src = sp.bgr255() ? 2 - c : c;
                for (int j = 0; j < plane; j++) {
                    float e = input[i + src * plane + j];
                    float v = sp.bgr255() ? (e + sp.mean()[src]) / 255f : e * sp.std()[src] + sp.mean()[src];
                    out[i + c * plane + j] = Math.max(0, Math.min(1, v));
                }
            }
        }
        return out;
    }
}
