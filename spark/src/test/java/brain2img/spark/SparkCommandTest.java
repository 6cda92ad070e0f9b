package brain2img.spark;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The spark commands join the core CLI only through SparkMain; each shows an example; bad usage is exit code 2. */
class SparkCommandTest {
    @Test
    void sparkCommandsHaveExamplesAndTheCoreHelpStaysClean() {
        for (String[] cmd : new String[][]{{"spark", "--help"}, {"spark", "run", "--help"}, {"spark", "render", "--help"}, {"spark", "ridge", "--help"}}) {
            String[] r = run(cmd);
            assertEquals("0", r[0], String.join(" ", cmd));
            assertTrue(r[1].contains("Example"), String.join(" ", cmd) + ":\n" + r[1]);
            assertEquals("", r[2], String.join(" ", cmd) + " writes nothing to stderr");
        }
        assertTrue(run("spark", "run", "--help")[1].contains("--master"));
        String core = captureCore();
        assertFalse(core.lines().anyMatch(l -> l.strip().startsWith("spark ")), "core help lists no spark command:\n" + core);
        assertEquals("2", run("spark", "run", "--out", "x")[0], "--master is required");
        assertEquals("2", run("spark", "ridge", "--master", "local[1]", "--x", "x.npy", "--y", "y.npy", "--alphas", "1", "--out", "m", "--block", "0")[0]);
    }

    /** {exit code, stdout, stderr} of one SparkMain run in this JVM. */
    static String[] run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = SparkMain.execute(args);
            return new String[]{Integer.toString(code), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    private static String captureCore() {
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            brain2img.cli.Main.execute("--help");
            return out.toString(StandardCharsets.UTF_8);
        } finally {
            System.setOut(old);
        }
    }
}
