package brain2img.serve;

import java.util.Locale;

/** What the stream does when rendering falls behind acquisition. */
public enum Policy {
    /** Keep only the newest waiting volume; older waiting ones are dropped (counted and logged). */
    LATEST,
    /** Queue every volume (unbounded); outputs lag but none is lost. */
    ALL;

    public static Policy parse(String s) {
        for (Policy p : values()) if (p.name().toLowerCase(Locale.ROOT).equals(s)) return p;
        throw new IllegalArgumentException("unknown policy '" + s + "' (expected latest or all)");
    }
}
