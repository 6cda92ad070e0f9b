package brain2img.eval;

/** What is known about each metric name {@link Audit} produces. */
public final class Metrics {
    private Metrics() {}

    /** Chance level for n test images, or NaN where none is defined (PixCorr, SSIM depend on the images). */
    public static double chance(String metric, int n) {
        if (metric.startsWith("twoway_")) return 0.5;
        if (metric.startsWith("nway_top1_")) return 1.0 / n;
        return Double.NaN;
    }

    /** Whether a reconstruction is compared with the nulls on this metric (higher = better for all of these). */
    public static boolean tested(String metric) {
        return !metric.startsWith("memorised_");
    }

    /** Best-of-K by ground truth is reported (as an optimistic bound) for per-sample metrics. */
    static boolean hasBestOfK(String metric) {
        return metric.equals("pixcorr") || metric.equals("ssim") || (metric.startsWith("twoway_") && !metric.endsWith("_takagi"));
    }

    /** A short human description for the report. */
    public static String describe(String metric) {
        if (metric.equals("pixcorr")) return "PixCorr: Pearson r of pixels at 425×425 (MindEye)";
        if (metric.equals("ssim")) return "SSIM: grey, Gaussian σ 1.5, data range 1, 425×425 (MindEye)";
        if (metric.startsWith("memorised_")) return "fraction closer to some training image than to own ground truth (lower is better)";
        if (metric.startsWith("twoway_") && metric.endsWith("_takagi")) {
            return "two-way identification, Takagi's direction (per ground truth, r averaged over samples), " + space(metric, "twoway_", "_takagi");
        }
        if (metric.startsWith("twoway_")) return "two-way identification, MindEye's direction (per reconstruction), " + space(metric, "twoway_", "");
        if (metric.startsWith("nway_top1_")) return "N-way top-1 identification among all test images, " + space(metric, "nway_top1_", "");
        return metric;
    }

    private static String space(String metric, String prefix, String suffix) {
        String s = metric.substring(prefix.length(), metric.length() - suffix.length());
        return s + " space";
    }
}
