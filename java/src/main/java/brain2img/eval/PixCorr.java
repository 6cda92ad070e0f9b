package brain2img.eval;

/**
 * MindEye's PixCorr: both pictures resized to 425 on the short side (torchvision Resize, bilinear), all
 * channels flattened, Pearson r. A grey picture compared with an RGB one is repeated to three channels.
 */
public final class PixCorr {
    public static final int SIZE = 425;

    private PixCorr() {}

    public static double score(Picture reconstruction, Picture groundTruth) {
        Picture[] p = sameChannels(reconstruction.resizeShortSide(SIZE), groundTruth.resizeShortSide(SIZE));
        if (p[0].data().length != p[1].data().length) {
            throw new IllegalArgumentException("PixCorr needs pictures of the same aspect, got " + reconstruction.height() + "x"
                    + reconstruction.width() + " and " + groundTruth.height() + "x" + groundTruth.width());
        }
        return Correlation.pearson(p[0].data(), p[1].data());
    }

    static Picture[] sameChannels(Picture a, Picture b) {
        if (a.channels() == b.channels()) return new Picture[]{a, b};
        return new Picture[]{a.rgb(), b.rgb()};
    }
}
