package brain2img.vision;

import brain2img.backend.Backend;
import brain2img.tensor.Tensor;

/**
 * The image conventions of the metric suite, one place: torchvision's {@code Resize(int)} (shorter side),
 * {@code CenterCrop} and the normalisation a network's {@link VisionNet.InputSpace} asks for. Images are
 * (N,3,H,W) RGB in [0,1]; results stay on the backend.
 */
public final class Preprocess {
    private Preprocess() {}

    /** torchvision's size for {@code Resize(size)}: the shorter side becomes size, the longer int(size·long/short). */
    public static int[] shorterSideSize(int h, int w, int size) {
        return h <= w ? new int[]{size, (int) ((long) size * w / h)} : new int[]{(int) ((long) size * h / w), size};
    }

    /** {@code Resize(size)} of a tensor image: bilinear, antialias as asked (torchvision ≤ 0.16 tensors: off). */
    public static Tensor resizeShorter(Backend be, Tensor x, int size, boolean antialias) {
        int[] hw = shorterSideSize(x.dimInt(2), x.dimInt(3), size);
        return be.resize(x, hw[0], hw[1], Backend.Interp.BILINEAR, antialias);
    }

    /**
     * torchvision's {@code CenterCrop((h, w))}: offsets round((H−h)/2) with Python's round-half-to-even; a
     * crop larger than the image is zero-padded around it ((h−H)//2 above, the rest below).
     */
    public static Tensor centerCrop(Backend be, Tensor x, int h, int w) {
        return be.crop(x, offset(x.dimInt(2), h), offset(x.dimInt(3), w), h, w);
    }

    static int offset(int in, int out) {
        if (out > in) return -((out - in) / 2);
        return (int) Math.rint((in - out) / 2.0);
    }

    /**
     * RGB in [0,1] → the network's input: (x − mean)/std per channel, or for Caffe's {@code bgr255} the
     * channels reversed, times 255, minus the BGR mean.
     */
    public static Tensor normalize(Backend be, Tensor x, VisionNet.InputSpace space) {
        float[] scale = new float[3], shift = new float[3];
        for (int c = 0; c < 3; c++) {
            scale[c] = space.bgr255() ? 255f : 1f / space.std()[c];
            shift[c] = space.bgr255() ? -space.mean()[c] : -space.mean()[c] / space.std()[c];
        }
        Tensor in = space.bgr255() ? reverseChannels(be, x) : x;
        Tensor s = be.upload(Tensor.of(scale, 3, 1, 1)), b = be.upload(Tensor.of(shift, 3, 1, 1));
        return be.add(be.mul(in, s), b);
    }

    private static Tensor reverseChannels(Backend be, Tensor x) {
        Tensor h = be.download(x);
        long n = h.dim(0), plane = h.numel() / (n * 3);
        float[] src = h.floats(), dst = new float[src.length];
        for (long i = 0; i < n; i++) {
            for (int c = 0; c < 3; c++) {
                System.arraycopy(src, Math.toIntExact((i * 3 + c) * plane), dst, Math.toIntExact((i * 3 + 2 - c) * plane), Math.toIntExact(plane));
            }
        }
        return be.upload(Tensor.of(dst, h.shape()));
    }
}
