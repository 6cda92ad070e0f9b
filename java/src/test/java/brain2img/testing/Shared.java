package brain2img.testing;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Locates {@code ../shared} (set by Maven as the brain2img.shared property). Tests needing it skip when it is
 * absent on a developer machine, but fail under {@code CI=true}: there a missing golden is a broken setup, and a
 * skip would let the suite pass without checking anything.
 */
public final class Shared {
    private Shared() {}

    public static Path dir() {
        String p = System.getProperty("brain2img.shared", "../shared");
        return Path.of(p).toAbsolutePath().normalize();
    }

    /** A path under shared/: skips the calling test with a clear message when missing, fails instead under CI. */
    public static Path require(String relative) {
        return require(relative, System.getenv("CI"));
    }

    /** {@link #require(String)} with the CI variable's value given (tests of this rule set it). */
    static Path require(String relative, String ciVariable) {
        Path p = dir().resolve(relative);
        if (!Files.exists(p)) {
            String why = "shared data not found: " + p + " (tests read ../shared beside the project)";
            if (isCi(ciVariable)) fail(why + "; CI=" + ciVariable + ", so this is a failure, not a skip");
            Assumptions.abort(why);
        }
        return p;
    }

    /** CI=true (any case, as GitHub Actions, GitLab and most runners set it) or CI=1. */
    static boolean isCi(String ciVariable) {
        return ciVariable != null && (ciVariable.equalsIgnoreCase("true") || ciVariable.equals("1"));
    }

    public static Path sdTiny() {
        return require("golden/sd-tiny");
    }
}
