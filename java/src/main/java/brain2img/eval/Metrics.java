package brain2img.eval;

/** What is known about each metric name {@link Audit} produces. */
public final class Metrics {
    private Metrics() {}

    /** Chance level for n test images, or NaN where none is defined (PixCorr, SSIM depend on the images). */
    public static double chance(String metric, int n) {
        if (metric.startsWith("twoway_")) return 0.5;
        NetMetric net = NetMetric.byKey(metric);
        if (net != null) return net.lowerIsBetter() ? Double.NaN : 0.5;
        if (metric.startsWith("nway_top1_")) return 1.0 / n;
        return Double.NaN;
    }

    /** Whether a reconstruction is compared with the nulls on this metric (higher = better for all of these). */
    public static boolean tested(String metric) {
        return !metric.startsWith("memorised_");
    }

    /** Whether smaller values are better: the correlation distances (EffNet-B, SwAV) and the memorisation fractions. */
    public static boolean lowerIsBetter(String metric) {
        NetMetric net = NetMetric.byKey(metric);
        return metric.startsWith("memorised_") || (net != null && net.lowerIsBetter());
    }

    /** Best-of-K by ground truth is reported (as an optimistic bound) for per-sample metrics. */
    static boolean hasBestOfK(String metric) {
        NetMetric net = NetMetric.byKey(metric);
        if (net != null) return net.scoring() != NetMetric.Scoring.TWO_WAY_TAKAGI;
        return metric.equals("pixcorr") || metric.equals("ssim") || (metric.startsWith("twoway_") && !metric.endsWith("_takagi"));
    }

    /** A short human description for the report. */
    public static String describe(String metric) {
        if (metric.equals("pixcorr")) return "PixCorr: Pearson r of pixels at 425×425 (MindEye)";
        if (metric.equals("ssim")) return "SSIM: grey, Gaussian σ 1.5, data range 1, 425×425 (MindEye)";
        if (metric.startsWith("memorised_")) {
            return "fraction closer to some training image than to own ground truth (lower is better), " + space(metric, "memorised_", "") + " space";
        }
        NetMetric net = NetMetric.byKey(metric);
        if (net != null) return describe(net);
        if (metric.startsWith("twoway_") && metric.endsWith("_takagi")) {
            return "two-way identification, Takagi's direction (per ground truth, r averaged over samples), " + space(metric, "twoway_", "_takagi");
        }
        if (metric.startsWith("twoway_")) return "two-way identification, MindEye's direction (per reconstruction), " + space(metric, "twoway_", "");
        if (metric.startsWith("nway_top1_")) return "N-way top-1 identification among all test images, " + space(metric, "nway_top1_", "");
        return metric;
    }

    private static String describe(NetMetric m) {
        NetInput in = m.input();
        String prep = (in.squareFirst() > 0 ? in.squareFirst() + "² bilinear (no antialias), " : "")
                + "Resize(" + in.shortSide() + (in.antialias() ? ", antialiased" : ", no antialias") + ")"
                + (in.crop() > 0 ? ", CenterCrop(" + in.crop() + ")" : "");
        String how = switch (m.scoring()) {
            case TWO_WAY -> "two-way identification per reconstruction (MindEye2)";
            case TWO_WAY_TAKAGI -> "two-way identification per ground truth, r averaged over samples (Takagi)";
            case DISTANCE -> "mean correlation distance to own ground truth (MindEye2; lower is better)";
        };
        return m.label() + ": " + how + ", " + m.family() + " " + m.node() + ", " + prep;
    }

    private static String space(String metric, String prefix, String suffix) {
        String s = metric.substring(prefix.length(), metric.length() - suffix.length());
        return s + " space";
    }
}
