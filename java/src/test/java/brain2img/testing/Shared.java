package brain2img.testing;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates {@code ../shared} (set by Maven as the brain2img.shared property); tests needing it skip when absent. */
public final class Shared {
    private Shared() {}

    public static Path dir() {
        String p = System.getProperty("brain2img.shared", "../shared");
        return Path.of(p).toAbsolutePath().normalize();
    }

    /** A path under shared/, skipping the calling test with a clear message when it is missing. */
    public static Path require(String relative) {
        Path p = dir().resolve(relative);
        Assumptions.assumeTrue(Files.exists(p), "shared data not found: " + p + " (tests read ../shared beside the project)");
        return p;
    }

    public static Path sdTiny() {
        return require("golden/sd-tiny");
    }
}
