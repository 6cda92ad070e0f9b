package brain2img.vision;

import brain2img.backend.Backend;
import brain2img.io.WeightFile;
import brain2img.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads a network's tensors by checkpoint key while noting every missing or mis-shaped one instead of
 * failing on the first. Each problem is tagged with the current stage (the index of the first node that
 * needs the tensor), so a network can run up to any node whose stages are complete — SwAV's ResNet without
 * {@code fc} still gives {@code avgpool} — and otherwise name all the problems in one error.
 */
final class Params {
    private final WeightFile file;
    private final String prefix;
    private final Backend be;
    private final List<int[]> stageOf = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();
    private final java.util.Map<String, Tensor> aliases = new java.util.HashMap<>();
    private int stage;

    /**
     * Keys are read as {@code prefix + key} (SwAV's "module."). A null file has no tensors: every read notes a
     * problem, which lets a network list its nodes without weights.
     */
    Params(WeightFile file, String prefix, Backend be) {
        this.file = file;
        this.prefix = prefix;
        this.be = be;
    }

    Backend backend() { return be; }

    /** Tensors read from now on are needed from node index {@code s} onwards. */
    void stage(int s) { stage = s; }

    boolean has(String key) {
        return aliases.containsKey(key) || (file != null && file.contains(prefix + key));
    }

    /** Tensors served under checkpoint keys in place of the file's (another layout's tensors, renamed). */
    void alias(java.util.Map<String, Tensor> tensors) {
        aliases.putAll(tensors);
    }

    /** Notes a problem at the current stage. */
    void problem(String text) {
        problems.add(text);
        stageOf.add(new int[]{stage});
    }

    /**
     * The tensor as a host f32 (unuploaded: callers fold or reshape first), or null after noting a problem.
     * {@code shape} entries of -1 match any size; a null shape checks nothing.
     */
    Tensor host(String key, long... shape) {
        if (!has(key)) {
            problem("missing '" + prefix + key + "'");
            return null;
        }
        Tensor t = aliases.containsKey(key) ? aliases.get(key) : file.getF32(prefix + key);
        if (shape != null && !fits(t.shape(), shape)) {
            problem("'" + prefix + key + "' has shape " + Arrays.toString(t.shape()) + ", expected " + pattern(shape));
            return null;
        }
        return t.toF32();
    }

    /** Like {@link #host} but uploaded to the backend. */
    Tensor get(String key, long... shape) {
        Tensor t = host(key, shape);
        return t == null ? null : be.upload(t);
    }

    private static boolean fits(long[] got, long[] want) {
        if (got.length != want.length) return false;
        for (int i = 0; i < got.length; i++) if (want[i] >= 0 && got[i] != want[i]) return false;
        return true;
    }

    private static String pattern(long[] s) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < s.length; i++) b.append(i > 0 ? ", " : "").append(s[i] < 0 ? "*" : Long.toString(s[i]));
        return b.append(']').toString();
    }

    /** The problems of stages ≤ {@code upTo}, in reading order. */
    List<String> problemsUpTo(int upTo) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < problems.size(); i++) if (stageOf.get(i)[0] <= upTo) out.add(problems.get(i));
        return out;
    }

    String source() { return file == null ? "(no weights)" : file.source().toString(); }
}
