package brain2img.vision;

import brain2img.io.WeightFile;
import brain2img.tensor.Tensor;

import java.util.List;
import java.util.Map;

/** Named tensors a network loads from: a weight file, or tensors in memory (random weights for benchmarks). */
interface Weights extends AutoCloseable {
    boolean contains(String key);

    /** The tensor as f32; only called for keys that {@link #contains} holds. */
    Tensor getF32(String key);

    List<String> names();

    /** Where the tensors come from, for error messages. */
    String source();

    @Override
    void close();

    static Weights of(WeightFile f) {
        return new Weights() {
            public boolean contains(String key) { return f.contains(key); }
            public Tensor getF32(String key) { return f.getF32(key); }
            public List<String> names() { return f.names(); }
            public String source() { return f.source().toString(); }
            public void close() { f.close(); }
        };
    }

    static Weights of(Map<String, Tensor> tensors, String source) {
        return new Weights() {
            public boolean contains(String key) { return tensors.containsKey(key); }
            public Tensor getF32(String key) { return tensors.get(key).toF32(); }
            public List<String> names() { return List.copyOf(tensors.keySet()); }
            public String source() { return source; }
            public void close() {}
        };
    }

    /** No tensors at all: a network built on it only lists its nodes. */
    static Weights none() {
        return of(Map.of(), "(no weights)");
    }
}
