package brain2img.cli;

import brain2img.io.Npy;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import brain2img.testing.Assert;
import brain2img.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code sd tokenize} and {@code sd encode-text} end to end on the sd-tiny goldens. */
class SdTextCommandsTest {
    private String lastErr = "";

    private int run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        int rc = cl.execute(args);
        lastErr = err.toString();
        return rc;
    }

    @Test
    void tokenizeWritesTheReferenceIds(@TempDir Path tmp) {
        Path g = Shared.sdTiny();
        Path out = tmp.resolve("ids.npy");
        assertEquals(0, run("sd", "tokenize", "--weights", g.resolve("weights").toString(),
                "--text-file", g.resolve("cases/captions.json").toString(), "--out", out.toString()), lastErr);
        Tensor got = Npy.read(out);
        assertEquals(DType.I32, got.dtype());
        assertArrayEquals(Npy.read(g.resolve("cases/token_ids.npy")).toIntArray(), got.toIntArray());
    }

    @Test
    void encodeTextFromFolderAndSingleFile(@TempDir Path tmp) {
        Path g = Shared.sdTiny();
        Tensor ref = Npy.read(g.resolve("cases/text_hidden.npy"));
        Path a = tmp.resolve("a.npy"), b = tmp.resolve("b.npy");
        assertEquals(0, run("sd", "encode-text", "--weights", g.resolve("weights").toString(),
                "--text-file", g.resolve("cases/captions.json").toString(), "--out", a.toString(), "--device", "cpu"), lastErr);
        Assert.assertClose(ref, Npy.read(a), 1e-4, "encode-text, diffusers folder");
        assertEquals(0, run("sd", "encode-text", "--weights", g.resolve("single-file.safetensors").toString(),
                "--config", g.resolve("weights").toString(), "--batch", "3",
                "--text-file", g.resolve("cases/captions.json").toString(), "--out", b.toString()), lastErr);
        Assert.assertClose(ref, Npy.read(b), 1e-4, "encode-text, single file, batches of 3");
    }

    @Test
    void promptsFromALineFile(@TempDir Path tmp) throws IOException {
        Path g = Shared.sdTiny();
        Path txt = tmp.resolve("prompts.txt"), out = tmp.resolve("ids.npy");
        Files.writeString(txt, "a photo of a cat\r\n\nHello, world!\n", StandardCharsets.UTF_8);
        assertEquals(0, run("sd", "tokenize", "--weights", g.resolve("weights").toString(),
                "--text-file", txt.toString(), "--out", out.toString()), lastErr);
        int[] ids = Npy.read(out).toIntArray();
        assertEquals(3 * 77, ids.length);
        assertArrayEquals(new int[]{49406, 320, 1125, 539, 320, 2368, 49407}, java.util.Arrays.copyOfRange(ids, 0, 7));
        assertArrayEquals(new int[]{49406, 49407}, java.util.Arrays.copyOfRange(ids, 77, 79)); // the blank line
        assertArrayEquals(new int[]{49406, 3306, 267, 1002, 256, 49407}, java.util.Arrays.copyOfRange(ids, 154, 160));
    }

    @Test
    void errorsAreOneLineWithTheRightExitCode(@TempDir Path tmp) throws IOException {
        Path g = Shared.sdTiny();
        String out = tmp.resolve("o.npy").toString();
        assertEquals(2, run("sd", "tokenize", "--weights", g.resolve("weights").toString(), "--text-file", tmp.resolve("nope.txt").toString(), "--out", out));
        assertTrue(lastErr.contains("nope.txt") && lastErr.strip().lines().count() == 1, lastErr);

        Path badJson = tmp.resolve("bad.json");
        Files.writeString(badJson, "[\"a\", 3]");
        assertEquals(1, run("sd", "tokenize", "--weights", g.resolve("weights").toString(), "--text-file", badJson.toString(), "--out", out));
        assertTrue(lastErr.contains("bad.json") && lastErr.contains("JSON array of strings"), lastErr);

        Path ok = tmp.resolve("ok.txt");
        Files.writeString(ok, "a cat\n");
        assertEquals(1, run("sd", "encode-text", "--weights", g.resolve("single-file.safetensors").toString(), "--text-file", ok.toString(), "--out", out));
        assertTrue(lastErr.contains("--config"), lastErr);
        assertTrue(Files.notExists(tmp.resolve("o.npy")), "no output after a failure");
    }
}
