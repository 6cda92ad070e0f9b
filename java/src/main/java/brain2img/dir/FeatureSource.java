package brain2img.dir;

import brain2img.tensor.Tensor;

import java.util.List;

/**
 * The training images' features, layer by layer, handed out in column blocks of units so that no layer has to
 * be in memory whole (conv1_1 of VGG19 at NSD size is 8,859 × 3.2 M values, 113 GB in f32).
 */
public interface FeatureSource {

    /** The layers (network node names) in forward order. */
    List<String> layers();

    /** One image's feature shape at a layer: (C,H,W) for convolutions, (D) for fully connected layers. */
    long[] shape(String layer);

    /** Number of images (rows of every block). */
    int images();

    /** Units of a layer: the product of its shape. */
    default long units(String layer) {
        return Tensor.numel(shape(layer));
    }

    /** Channels and positions per channel of a layer, channel-major as torch lays them out. */
    default int[] channelsAndPositions(String layer) {
        long[] s = shape(layer);
        int c = Math.toIntExact(s[0]);
        return new int[]{c, Math.toIntExact(Tensor.numel(s) / c)};
    }

    /** Units [u0, u1) of every image as a row-major (images, u1 − u0) f32 array. */
    float[] block(String layer, long u0, long u1);
}
