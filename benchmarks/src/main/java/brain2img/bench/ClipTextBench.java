package brain2img.bench;

import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.sd.ClipTextEncoder;
import brain2img.sd.ClipTokenizer;
import brain2img.sd.SdSource;
import brain2img.sd.TensorSource;
import brain2img.tensor.Tensor;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * CLIP text side on the CPU, in prompts/s (the {@code prompts} counter; "ops" are calls of {@code batch}
 * prompts): the BPE tokenizer, and the text encoder at SD v1 size (random weights, 12 layers of width 768,
 * about 13 GFLOP per prompt) or the sd-tiny golden model. The tokenizer reads the real CLIP vocabulary from
 * {@code ../shared/golden/sd-tiny/weights/tokenizer} (or {@code -Dbrain2img.shared=DIR}).
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar ClipTextBench.tokenize
 * java -jar benchmarks/target/benchmarks.jar ClipTextBench.encode -p model=v1 -p batch=1
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx6g"})
public class ClipTextBench {

    static Path sdTiny() {
        Path p = Path.of(System.getProperty("brain2img.shared", "../shared")).resolve("golden/sd-tiny");
        if (!Files.isDirectory(p)) throw new IllegalStateException(p.toAbsolutePath() + ": not found (set -Dbrain2img.shared=DIR)");
        return p;
    }

    /** A pool of distinct captions built from a small word list, cycled through by the benchmarks. */
    static List<String> prompts(int n) {
        String[] adj = {"a red", "two small", "an old", "the happy", "three wooden", "a shiny", "a sleepy", "some wet"};
        String[] noun = {"cat", "bicycles", "clock tower", "dogs", "boats", "teddy bear", "pizza", "airplane"};
        String[] rest = {"sitting on a bed", "near the café", "in the snow!!", "flying over a city skyline",
                "on a wooden table, 1920s photo", "by the river at dusk", "with a blue ribbon", "under a cloudy sky"};
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(adj[i % 8] + " " + noun[(i / 8) % 8] + " " + rest[(i / 64) % 8] + " #" + i);
        }
        return out;
    }

    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Prompts {
        public long prompts;
    }

    @State(Scope.Benchmark)
    public static class TokenizerState {
        @Param({"1", "64"})
        int batch;
        ClipTokenizer tok;
        List<String> pool;
        int next;

        @Setup(Level.Trial)
        public void setup() {
            tok = ClipTokenizer.load(sdTiny().resolve("weights/tokenizer"));
            pool = prompts(4096);
        }

        List<String> nextBatch() {
            if (next + batch > pool.size()) next = 0;
            List<String> b = pool.subList(next, next + batch);
            next += batch;
            return b;
        }
    }

    @State(Scope.Benchmark)
    public static class EncoderState {
        @Param({"1", "64"})
        int batch;
        /** "v1": SD v1 shapes with random weights; "tiny": the sd-tiny golden weights. */
        @Param({"v1", "tiny"})
        String model;
        ClipTextEncoder enc;
        Tensor ids;

        @Setup(Level.Trial)
        public void setup() {
            Backend be = new CpuBackend();
            if (model.equals("tiny")) {
                try (SdSource src = SdSource.open(sdTiny().resolve("weights"), null)) {
                    enc = ClipTextEncoder.load(src, be); // weights are copied to the heap, the file may close
                }
            } else {
                ClipTextEncoder.Config c = new ClipTextEncoder.Config(768, 3072, 12, 12, 77, 49408, 1e-5f, Backend.Unary.QUICK_GELU);
                enc = ClipTextEncoder.create(c, randomWeights(c, 42), be);
            }
            ClipTokenizer tok = ClipTokenizer.load(sdTiny().resolve("weights/tokenizer"));
            ids = ClipTextEncoder.ids(tok.encode(prompts(batch)));
        }
    }

    /** Weights of the config's shapes: N(0, 0.02²) matrices and biases, LayerNorm gains near 1. */
    static TensorSource randomWeights(ClipTextEncoder.Config c, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, Tensor> w = new HashMap<>();
        long d = c.width(), f = c.mlpWidth();
        w.put("text_model.embeddings.token_embedding.weight", random(r, 0.02, 0, c.vocabSize(), d));
        w.put("text_model.embeddings.position_embedding.weight", random(r, 0.01, 0, c.maxPositions(), d));
        for (int i = 0; i < c.layers(); i++) {
            String p = "text_model.encoder.layers." + i + ".";
            for (String ln : new String[]{"layer_norm1", "layer_norm2"}) {
                w.put(p + ln + ".weight", random(r, 0.1, 1, d));
                w.put(p + ln + ".bias", random(r, 0.02, 0, d));
            }
            for (String proj : new String[]{"q_proj", "k_proj", "v_proj", "out_proj"}) {
                w.put(p + "self_attn." + proj + ".weight", random(r, 0.02, 0, d, d));
                w.put(p + "self_attn." + proj + ".bias", random(r, 0.02, 0, d));
            }
            w.put(p + "mlp.fc1.weight", random(r, 0.02, 0, f, d));
            w.put(p + "mlp.fc1.bias", random(r, 0.02, 0, f));
            w.put(p + "mlp.fc2.weight", random(r, 0.02, 0, d, f));
            w.put(p + "mlp.fc2.bias", random(r, 0.02, 0, d));
        }
        w.put("text_model.final_layer_norm.weight", random(r, 0.1, 1, d));
        w.put("text_model.final_layer_norm.bias", random(r, 0.02, 0, d));
        return new TensorSource() {
            public String describe() { return "random CLIP text weights (seed " + seed + ")"; }
            public Set<String> names() { return w.keySet(); }
            public boolean contains(String name) { return w.containsKey(name); }
            public Tensor get(String name) { return w.get(name); }
        };
    }

    private static Tensor random(SplittableRandom r, double std, double mean, long... shape) {
        float[] v = new float[Math.toIntExact(Tensor.numel(shape))];
        for (int i = 0; i < v.length; i++) v[i] = (float) (mean + std * (r.nextDouble() * 2 - 1) * Math.sqrt(3));
        return Tensor.of(v, shape);
    }

    @Benchmark
    @Warmup(iterations = 2, time = 2)
    @Measurement(iterations = 3, time = 2)
    public int[][] tokenize(TokenizerState s, Prompts count) {
        count.prompts += s.batch;
        return s.tok.encode(s.nextBatch());
    }

    @Benchmark
    @Warmup(iterations = 1, time = 5)
    @Measurement(iterations = 3, time = 5)
    public Tensor encode(EncoderState s, Prompts count) {
        count.prompts += s.batch;
        return s.enc.encode(s.ids);
    }
}
