package brain2img.cli;

import brain2img.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line as a user meets it: help, version, exit codes and one-line errors. */
class MainTest {
    @TempDir
    Path tmp;

    /** Exit code, stdout and stderr of one CLI run inside this JVM. */
    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void helpListsEveryCommandWithADescription() {
        Run r = run("--help");
        assertEquals(0, r.code());
        for (String c : new String[]{"demo", "weights", "sd", "help"}) {
            assertTrue(r.out().lines().anyMatch(l -> l.strip().startsWith(c + " ") && l.strip().length() > c.length() + 5),
                    "help lists '" + c + "' with a description:\n" + r.out());
        }
        Run v = run("--version");
        assertEquals(0, v.code());
        assertTrue(v.out().startsWith("brain2img "), v.out());
    }

    @Test
    void everyCommandAtEveryLevelShowsAnExample() {
        Map<String, Run> help = helpOfEveryCommand();
        // the walk must reach the nested commands, or this test would pass on the top level alone
        for (String c : new String[]{"brain2img", "brain2img sd sample", "brain2img ridge fit", "brain2img weights inspect",
                "brain2img data", "brain2img cuda bench"}) {
            assertTrue(help.containsKey(c), "walk reached '" + c + "': " + help.keySet());
        }
        help.forEach((name, r) -> assertTrue(r.out().contains("Example"), name + " --help has no example:\n" + r.out()));
    }

    /**
     * Every command's and subcommand's help renders cleanly: picocli formats descriptions and footers with
     * String.format, and on a stray '%' it prints a "[picocli WARN] Could not format" line to stderr instead.
     */
    @Test
    void everyHelpRendersWithoutFormatWarnings() {
        Map<String, Run> help = helpOfEveryCommand();
        assertTrue(help.size() > 20, "walked the whole command tree: " + help.keySet());
        help.forEach((name, r) -> {
            assertEquals(0, r.code(), name + " --help\n" + r.err());
            assertTrue(r.out().contains("Usage: "), name + ":\n" + r.out());
            assertEquals("", r.err(), name + " --help writes nothing to stderr");
        });
    }

    /** `--help` of every command in the tree, keyed by its full name ("brain2img sd sample"). */
    private static Map<String, Run> helpOfEveryCommand() {
        Map<String, Run> help = new TreeMap<>();
        collectHelp(Main.commandLine(), new ArrayList<>(), help);
        return help;
    }

    private static void collectHelp(picocli.CommandLine cl, List<String> path, Map<String, Run> help) {
        List<String> args = new ArrayList<>(path);
        args.add("--help");
        help.put(String.join(" ", java.util.stream.Stream.concat(java.util.stream.Stream.of("brain2img"), path.stream()).toList()),
                run(args.toArray(String[]::new)));
        cl.getSubcommands().forEach((name, sub) -> {
            if (name.equals("help") || !name.equals(sub.getCommandName())) return; // picocli's help; aliases repeat a command
            List<String> p = new ArrayList<>(path);
            p.add(name);
            collectHelp(sub, p, help);
        });
    }

    @Test
    void badUsageExitsTwoWithOneLine() {
        Run r = run("--no-such-option");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--no-such-option"), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace:\n" + r.err());
        Run missing = run("weights", "inspect", tmp.resolve("nothing-here").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("nothing-here"), missing.err());
    }

    @Test
    void inspectListsGoldenTensorsWithTotals() {
        Path unet = Shared.sdTiny().resolve("weights/unet");
        Run r = run("weights", "inspect", unet.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("conv_in.weight") && l.contains("f32") && l.contains("[32, 4, 3, 3]")), r.out());
        assertTrue(r.out().contains("total: "), r.out());
        Run all = run("weights", "inspect", "--summary", Shared.sdTiny().toString());
        assertEquals(0, all.code(), all.err());
        assertEquals(4, all.out().lines().filter(l -> l.startsWith("== ")).count(), all.out());
    }

    @Test
    void damagedWeightsGiveOneLineNamingTheFile() throws IOException {
        byte[] bytes = Files.readAllBytes(Shared.sdTiny().resolve("weights/text_encoder/model.safetensors"));
        Path bad = tmp.resolve("damaged.safetensors");
        Files.write(bad, Arrays.copyOf(bytes, bytes.length / 2));
        Run r = run("weights", "inspect", bad.toString());
        assertEquals(1, r.code());
        assertEquals(1, r.err().strip().lines().count(), "one line:\n" + r.err());
        assertTrue(r.err().contains("damaged.safetensors"), r.err());
        Run debug = run("--debug", "weights", "inspect", bad.toString());
        assertTrue(debug.err().contains("\tat "), "--debug shows the stack trace");
    }
}
