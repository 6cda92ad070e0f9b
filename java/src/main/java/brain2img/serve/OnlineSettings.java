package brain2img.serve;

/**
 * Online preprocessing of a stream, all off by default (see {@link OnlinePreprocessor} for what each step does).
 *
 * @param baseline number of baseline volumes for z-scoring (0 = off)
 * @param window   sliding-window length in TRs (1 = off)
 * @param delay    haemodynamic shift in TRs (0 = off)
 */
public record OnlineSettings(int baseline, int window, int delay) {
    public OnlineSettings {
        if (baseline < 0) throw new IllegalArgumentException("--zscore-baseline must be ≥ 0, got " + baseline);
        if (window < 1) throw new IllegalArgumentException("--window must be ≥ 1, got " + window);
        if (delay < 0) throw new IllegalArgumentException("--delay must be ≥ 0, got " + delay);
        if (baseline == 1) throw new IllegalArgumentException("--zscore-baseline needs at least 2 volumes to estimate a variance");
    }

    public static OnlineSettings none() { return new OnlineSettings(0, 1, 0); }

    public boolean isNone() { return baseline == 0 && window == 1 && delay == 0; }
}
