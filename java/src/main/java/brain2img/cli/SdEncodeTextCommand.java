package brain2img.cli;

import brain2img.backend.Backend;
import brain2img.io.Npy;
import brain2img.sd.ClipTextEncoder;
import brain2img.sd.ClipTokenizer;
import brain2img.sd.SdSource;
import brain2img.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code brain2img sd encode-text}: prompts → CLIP last hidden states (N,77,D) f32, SD v1's conditioning. */
@Command(name = "encode-text", mixinStandardHelpOptions = true,
        description = "Encode prompts with the CLIP text encoder into float32 hidden states (N,77,D), the conditioning SD v1 cross-attends to.",
        footer = {"", "Examples:",
                "  brain2img sd encode-text --weights weights/sd-v1-4 --text-file prompts.txt \\",
                "      --out hidden.npy",
                "  brain2img sd encode-text --weights v1-5-pruned-emaonly.safetensors \\",
                "      --config weights/sd-v1-5 --text-file prompts.json --out hidden.npy"})
public final class SdEncodeTextCommand implements Callable<Integer> {
    @Mixin
    SdWeightsOptions.TextEncoder sd;

    @Option(names = "--text-file", required = true, paramLabel = "F",
            description = "A JSON array of strings, or a text file with one prompt per line.")
    Path textFile;

    @Option(names = "--out", required = true, paramLabel = "hidden.npy", description = "Output .npy, float32 (N,77,D).")
    Path out;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "16", description = "Prompts per encoder call (default: ${DEFAULT-VALUE}).")
    int batch;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws IOException {
        if (batch < 1) throw new Main.UsageException("--batch must be at least 1, got " + batch);
        List<String> prompts = SdTokenizeCommand.readPrompts(textFile);
        try (SdSource src = sd.open(); Backend be = device.open()) {
            ClipTokenizer tok = SdTokenizeCommand.loadTokenizer(sd.weights, sd.config());
            long t0 = System.nanoTime();
            ClipTextEncoder enc = ClipTextEncoder.load(src, be);
            long t1 = System.nanoTime();
            int n = prompts.size(), len = ClipTokenizer.CONTEXT_LENGTH, d = enc.config().width();
            long rowValues = (long) len * d;
            if (n * rowValues > Integer.MAX_VALUE - 8) {
                throw new Main.UsageException(textFile + ": " + n + " prompts × " + len + " × " + d + " values do not fit one array; split the file");
            }
            float[] hidden = new float[Math.toIntExact(n * rowValues)];
            int[][] ids = tok.encode(prompts);
            for (int from = 0; from < n; from += batch) {
                int to = Math.min(n, from + batch);
                Tensor h = be.download(enc.encode(ClipTextEncoder.ids(Arrays.copyOfRange(ids, from, to))));
                System.arraycopy(h.floats(), 0, hidden, Math.toIntExact(from * rowValues), Math.toIntExact((to - from) * rowValues));
            }
            double loadS = (t1 - t0) / 1e9, encS = (System.nanoTime() - t1) / 1e9;
            Npy.write(out, Tensor.of(hidden, n, len, d));
            System.err.printf("encoded %d prompts in %.2f s (%.1f prompts/s; weights loaded in %.2f s) -> %s float32[%d, %d, %d]%n",
                    n, encS, n / encS, loadS, out, n, len, d);
            SdTokenizeCommand.reportTruncated(tok, prompts);
        }
        return 0;
    }
}
