package brain2img.eval;

import brain2img.tensor.Tensor;

/**
 * An image for evaluation: channel-first (C,H,W) values in [0,1] held in double, as the reference metric code
 * (torchvision + scikit-image on float tensors) sees them. C is 1 (grey) or 3 (RGB).
 */
public record Picture(int channels, int height, int width, double[] data) {
    /** Rec. 709 luma weights of skimage.color.rgb2gray, which MindEye's SSIM uses. */
    static final double[] RGB2GRAY = {0.2125, 0.7154, 0.0721};

    public Picture {
        if (channels != 1 && channels != 3) throw new IllegalArgumentException("picture must have 1 or 3 channels, got " + channels);
        if (height < 1 || width < 1) throw new IllegalArgumentException("picture size " + height + "x" + width);
        if (data.length != channels * height * width) {
            throw new IllegalArgumentException(data.length + " values do not fill a " + channels + "x" + height + "x" + width + " picture");
        }
    }

    /** A (C,H,W) or (H,W) tensor with values in [0,1]. */
    public static Picture of(Tensor t) {
        if (t.rank() == 2) return new Picture(1, t.dimInt(0), t.dimInt(1), t.toDoubleArray());
        if (t.rank() != 3) throw new IllegalArgumentException("picture tensor must be (C,H,W) or (H,W), got " + t.shapeString());
        return new Picture(t.dimInt(0), t.dimInt(1), t.dimInt(2), t.toDoubleArray());
    }

    public Tensor toTensor() {
        float[] f = new float[data.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) data[i];
        return Tensor.of(f, channels, height, width);
    }

    /** The same picture with values clamped to [0,1] (what saving it as an image would keep). */
    public Picture clamped() {
        double[] d = new double[data.length];
        for (int i = 0; i < d.length; i++) d[i] = Math.max(0, Math.min(1, data[i]));
        return new Picture(channels, height, width, d);
    }

    /** Three channels: a grey picture is repeated, an RGB one returned as is. */
    public Picture rgb() {
        if (channels == 3) return this;
        int plane = height * width;
        double[] d = new double[3 * plane];
        for (int c = 0; c < 3; c++) System.arraycopy(data, 0, d, c * plane, plane);
        return new Picture(3, height, width, d);
    }

    /** One channel: skimage.color.rgb2gray for RGB (0.2125 R + 0.7154 G + 0.0721 B), itself for grey. */
    public Picture grey() {
        if (channels == 1) return this;
        int plane = height * width;
        double[] d = new double[plane];
        for (int i = 0; i < plane; i++) {
            d[i] = RGB2GRAY[0] * data[i] + RGB2GRAY[1] * data[plane + i] + RGB2GRAY[2] * data[2 * plane + i];
        }
        return new Picture(1, height, width, d);
    }

    /**
     * torchvision {@code Resize(size)} for a tensor: the shorter side becomes {@code size}, the longer one
     * {@code int(size * long / short)}.
     */
    public Picture resizeShortSide(int size) {
        return resizeShortSide(size, true);
    }

    /** {@link #resizeShortSide(int)} with or without antialias. */
    public Picture resizeShortSide(int size, boolean antialias) {
        if (height <= width) return resize(size, (int) ((long) size * width / height), antialias);
        return resize((int) ((long) size * height / width), size, antialias);
    }

    /** Bilinear resize with torch's antialias=True semantics (see {@link Resize}). */
    public Picture resize(int outHeight, int outWidth) {
        return resize(outHeight, outWidth, true);
    }

    /** Bilinear resize as torch's interpolate with align_corners=False and the given antialias (see {@link Resize}). */
    public Picture resize(int outHeight, int outWidth, boolean antialias) {
        if (outHeight == height && outWidth == width) return this;
        return new Picture(channels, outHeight, outWidth, Resize.bilinear(data, channels, height, width, outHeight, outWidth, antialias));
    }

    /**
     * torchvision {@code CenterCrop((h, w))} of a picture at least that large: offsets
     * {@code round((H−h)/2)}, {@code round((W−w)/2)} with Python's round (half to even).
     */
    public Picture centreCrop(int h, int w) {
        if (h > height || w > width) throw new IllegalArgumentException("centre crop " + h + "x" + w + " of a " + height + "x" + width + " picture");
        int top = (int) Math.rint((height - h) / 2.0), left = (int) Math.rint((width - w) / 2.0);
        double[] d = new double[channels * h * w];
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < h; y++) System.arraycopy(data, (c * height + top + y) * width + left, d, (c * h + y) * w, w);
        }
        return new Picture(channels, h, w, d);
    }
}
