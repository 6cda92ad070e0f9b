package brain2img.eval;

import java.util.List;
import java.util.Map;

/**
 * Published NSD results (4-subject means, MindEye2's table) as {@code ../shared/docs/metrics.md} records them,
 * under brain2img's metrics.json keys, two-way as fractions. Only values recorded there: a method's missing
 * metric is absent, never filled in. These are other papers' numbers, shown beside a run's, never as its own.
 */
public record PublishedNsd(String method, Map<String, Double> values) {
    public static final String LABEL = "published, NSD, 4-subject mean";

    public static final List<PublishedNsd> ALL = List.of(
            new PublishedNsd("MindEye2 (40 h)", Map.of("pixcorr", 0.322, "ssim", 0.431, "inception", 0.954, "clip", 0.930)),
            new PublishedNsd("MindEye1", Map.of("pixcorr", 0.309, "ssim", 0.323, "alexnet2", 0.947, "alexnet5", 0.978, "inception", 0.938, "clip", 0.941)),
            new PublishedNsd("Brain-Diffuser", Map.of("pixcorr", 0.254, "ssim", 0.356, "alexnet2", 0.942, "alexnet5", 0.962, "inception", 0.872, "clip", 0.915)),
            new PublishedNsd("Takagi & Nishimoto (re-run in MindEye2's table)",
                    Map.of("pixcorr", 0.246, "ssim", 0.410, "inception", 0.838, "clip", 0.821, "effnet", 0.811, "swav", 0.504)));
}
