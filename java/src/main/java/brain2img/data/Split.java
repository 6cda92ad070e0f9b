package brain2img.data;

import java.util.Locale;

/** Which side of the train/test division a trial belongs to; written as {@code train}/{@code test} in trials.csv. */
public enum Split {
    TRAIN, TEST;

    public String lower() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code train}/{@code test} (any case); null for anything else. */
    public static Split parse(String s) {
        return switch (s.strip().toLowerCase(Locale.ROOT)) {
            case "train" -> TRAIN;
            case "test" -> TEST;
            default -> null;
        };
    }
}
