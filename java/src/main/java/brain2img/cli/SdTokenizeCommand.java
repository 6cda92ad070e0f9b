package brain2img.cli;

import brain2img.io.Npy;
import brain2img.sd.ClipTokenizer;
import brain2img.sd.ClipTextEncoder;
import brain2img.sd.SdSource;
import brain2img.text.Prompts;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code brain2img sd tokenize}: prompts → CLIP token ids (N,77) i32. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Tokenize prompts with the CLIP BPE tokenizer into int32 ids (N,77): start, at most 75 tokens, end, padded with end.",
        footer = {"", "Example:",
                "  brain2img sd tokenize --weights weights/sd-v1-4 --text-file prompts.json \\",
                "      --out ids.npy"})
public final class SdTokenizeCommand implements Callable<Integer> {
    @Option(names = "--weights", required = true, paramLabel = "DIR",
            description = "A diffusers folder (its tokenizer/ is used), a tokenizer folder itself, or a single-file checkpoint with --config.")
    Path weights;

    @Option(names = "--text-file", required = true, paramLabel = "F",
            description = "A JSON array of strings, or a text file with one prompt per line.")
    Path textFile;

    @Option(names = "--out", required = true, paramLabel = "ids.npy", description = "Output .npy, int32 (N,77).")
    Path out;

    @Option(names = "--config", paramLabel = "DIR", description = "A diffusers folder whose tokenizer/ to use with a single-file checkpoint.")
    Path config;

    @Override
    public Integer call() throws IOException {
        List<String> prompts = readPrompts(textFile);
        ClipTokenizer tok = loadTokenizer(weights, config);
        long t0 = System.nanoTime();
        int[][] ids = tok.encode(prompts);
        double s = (System.nanoTime() - t0) / 1e9;
        Npy.write(out, ClipTextEncoder.ids(ids));
        System.err.printf("tokenized %d prompts in %.3f s -> %s int32[%d, %d]%n", ids.length, s, out, ids.length, ClipTokenizer.CONTEXT_LENGTH);
        reportTruncated(tok, prompts);
        return 0;
    }

    static List<String> readPrompts(Path file) {
        if (!Files.isRegularFile(file)) throw new Main.UsageException(file + ": no such text file");
        List<String> prompts = Prompts.read(file);
        if (prompts.isEmpty()) throw new Main.UsageException(file + ": no prompts");
        return prompts;
    }

    static ClipTokenizer loadTokenizer(Path weights, Path config) {
        if (Files.isRegularFile(weights.resolve("vocab.json"))) return ClipTokenizer.load(weights);
        try (SdSource src = SdSource.open(weights, config)) {
            return ClipTokenizer.load(src.tokenizerDir());
        }
    }

    /** Says how many prompts lost tokens to the 75-token limit (SD v1 silently drops them). */
    static void reportTruncated(ClipTokenizer tok, List<String> prompts) {
        int truncated = 0;
        for (String p : prompts) if (tok.tokens(p).length > ClipTokenizer.CONTEXT_LENGTH - 2) truncated++;
        if (truncated > 0) System.err.println("note: " + truncated + " prompt(s) longer than 75 tokens were truncated");
    }
}
