package brain2img.eval;

import java.util.List;

/**
 * One number of a published metric table computed in a network's feature space: which network (by its
 * {@link MetricNets} family), which node, how pictures become its input, and how features become a score.
 *
 * @param key     the metrics.json key
 * @param family  the network family in the nets folder ({@code alexnet}, {@code inception}, {@code clip}, {@code effnet}, {@code swav})
 * @param node    the node of the network's {@link brain2img.vision.VisionNet#features}, flattened per image
 * @param label   the column name published tables use
 */
public record NetMetric(String key, String family, String node, NetInput input, Scoring scoring, String label) {

    /** How a feature space is turned into per-image scores. */
    public enum Scoring {
        /** MindEye's two-way identification per reconstruction (chance 0.5, higher is better). */
        TWO_WAY,
        /** Takagi's: per ground truth, with r averaged over the samples first (chance 0.5, higher is better). */
        TWO_WAY_TAKAGI,
        /** Mean correlation distance 1 − r between a reconstruction and its own ground truth (lower is better). */
        DISTANCE
    }

    /**
     * MindEye2's table ({@code final_evaluations}, identical in MindEye1): every picture to 256² (bilinear, no
     * antialias), then each network's Resize(int) and normalisation.
     */
    public static final List<NetMetric> MINDEYE2 = List.of(
            new NetMetric("alexnet2", "alexnet", "features.4", NetInput.mindEye(256, NetInput.IMAGENET_MEAN, NetInput.IMAGENET_STD), Scoring.TWO_WAY, "AlexNet(2)"),
            new NetMetric("alexnet5", "alexnet", "features.11", NetInput.mindEye(256, NetInput.IMAGENET_MEAN, NetInput.IMAGENET_STD), Scoring.TWO_WAY, "AlexNet(5)"),
            new NetMetric("inception", "inception", "avgpool", NetInput.mindEye(342, NetInput.IMAGENET_MEAN, NetInput.IMAGENET_STD), Scoring.TWO_WAY, "Incep"),
            new NetMetric("clip", "clip", "image_embeds", NetInput.mindEye(224, NetInput.CLIP_MEAN, NetInput.CLIP_STD), Scoring.TWO_WAY, "CLIP"),
            new NetMetric("effnet", "effnet", "avgpool", NetInput.mindEye(255, NetInput.IMAGENET_MEAN, NetInput.IMAGENET_STD), Scoring.DISTANCE, "EffNet-B"),
            new NetMetric("swav", "swav", "avgpool", NetInput.mindEye(224, NetInput.IMAGENET_MEAN, NetInput.IMAGENET_STD), Scoring.DISTANCE, "SwAV"));

    /**
     * Takagi &amp; Nishimoto's identification ({@code img2feat_decoded.py}, {@code identification.py}): Resize(299)
     * of the picture (PIL bilinear, antialiased), CenterCrop(299), ImageNet normalisation; AlexNet after the
     * second and fifth max-pool, Inception's flatten; anchored on the ground truth, r averaged over samples.
     */
    public static final List<NetMetric> TAKAGI = List.of(
            new NetMetric("takagi_alexnet2", "alexnet", "features.5", NetInput.takagi(), Scoring.TWO_WAY_TAKAGI, "AlexNet(2), Takagi"),
            new NetMetric("takagi_alexnet5", "alexnet", "features.12", NetInput.takagi(), Scoring.TWO_WAY_TAKAGI, "AlexNet(5), Takagi"),
            new NetMetric("takagi_inception", "inception", "flatten", NetInput.takagi(), Scoring.TWO_WAY_TAKAGI, "Incep, Takagi"));

    /** Both definition sets, MindEye2's first. */
    public static final List<NetMetric> ALL = java.util.stream.Stream.concat(MINDEYE2.stream(), TAKAGI.stream()).toList();

    /** The definition with this metrics.json key, or null. */
    public static NetMetric byKey(String key) {
        for (NetMetric m : ALL) if (m.key.equals(key)) return m;
        return null;
    }

    public boolean lowerIsBetter() {
        return scoring == Scoring.DISTANCE;
    }
}
