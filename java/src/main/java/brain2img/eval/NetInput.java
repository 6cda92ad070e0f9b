package brain2img.eval;

import brain2img.tensor.Tensor;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * How a published evaluation turns a [0,1] picture into a metric network's input, step by step as its code
 * does (the one place that knows these conventions; {@link Resize} does the resampling):
 * <ol>
 * <li>grey pictures become RGB (the channel repeated);</li>
 * <li>{@code squareFirst} &gt; 0: resize to squareFirst² (MindEye2: 256, no antialias);</li>
 * <li>resize the shorter side to {@code shortSide}, the longer to {@code int(shortSide·long/short)} (torchvision
 *     {@code Resize(int)}), with or without antialias;</li>
 * <li>{@code crop} &gt; 0: centre crop crop² (Takagi: 299);</li>
 * <li>per channel (x − mean) / std.</li>
 * </ol>
 * The result is the (N,3,H,W) float32 batch a {@link brain2img.vision.VisionNet} takes.
 */
public record NetInput(int squareFirst, int shortSide, boolean antialias, int crop, float[] mean, float[] std) {
    public static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f}, IMAGENET_STD = {0.229f, 0.224f, 0.225f};
    public static final float[] CLIP_MEAN = {0.48145466f, 0.4578275f, 0.40821073f}, CLIP_STD = {0.26862954f, 0.26130258f, 0.27577711f};
    /** MindEye2 resizes every picture to this square (no antialias) before any network's own resize. */
    public static final int MINDEYE_SIDE = 256;

    public NetInput {
        if (shortSide < 1) throw new IllegalArgumentException("network input side " + shortSide);
        if (mean.length != 3 || std.length != 3) throw new IllegalArgumentException("mean and std need 3 channels");
        mean = mean.clone();
        std = std.clone();
    }

    /** MindEye2's: 256² without antialias, then Resize(side) without antialias, then normalise. */
    public static NetInput mindEye(int side, float[] mean, float[] std) {
        return new NetInput(MINDEYE_SIDE, side, false, 0, mean, std);
    }

    /** Takagi's: Resize(299) of the picture itself (PIL bilinear = antialiased), CenterCrop(299), ImageNet normalisation. */
    public static NetInput takagi() {
        return new NetInput(0, 299, true, 299, IMAGENET_MEAN, IMAGENET_STD);
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    /** One picture through every step, (3,H,W) in double. */
    public Picture apply(Picture p) {
        Picture x = p.rgb();
        if (squareFirst > 0) x = x.resize(squareFirst, squareFirst, false);
        x = x.resizeShortSide(shortSide, antialias);
        if (crop > 0) x = x.centreCrop(crop, crop);
        int plane = x.height() * x.width();
        double[] d = x.data().clone();
        for (int c = 0; c < 3; c++) {
            // torch normalises float32 tensors: (x − mean) / std with the constants as float32
            double m = mean[c], s = std[c];
            for (int i = c * plane; i < (c + 1) * plane; i++) d[i] = (d[i] - m) / s;
        }
        return new Picture(3, x.height(), x.width(), d);
    }

    /** The pictures as one (N,3,H,W) float32 batch; all must come out the same size (same aspect ratio in). */
    public Tensor batch(List<Picture> pictures) {
        if (pictures.isEmpty()) throw new IllegalArgumentException("no pictures to batch");
        Picture first = apply(pictures.get(0));
        int per = first.data().length;
        float[] out = new float[pictures.size() * per];
        for (int i = 0; i < pictures.size(); i++) {
            Picture x = i == 0 ? first : apply(pictures.get(i));
            if (x.height() != first.height() || x.width() != first.width()) {
                throw new IllegalArgumentException("pictures of different aspect give network inputs " + first.height() + "x" + first.width()
                        + " and " + x.height() + "x" + x.width());
            }
            double[] d = x.data();
            for (int j = 0; j < per; j++) out[i * per + j] = (float) d[j];
        }
        return Tensor.of(out, pictures.size(), 3, first.height(), first.width());
    }

    /** A stable description, part of the feature cache key. */
    public String describe() {
        return String.format(Locale.ROOT, "square%d,short%d,%s,crop%d,mean%s,std%s", squareFirst, shortSide, antialias ? "antialias" : "plain", crop,
                Arrays.toString(mean), Arrays.toString(std));
    }
}
