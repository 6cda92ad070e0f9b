package brain2img.vision;

import brain2img.tensor.Tensor;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/** The nodes a forward pass was asked for, collected as it passes them; {@link #put} says when it may stop. */
final class Capture {
    private final Set<String> wanted;
    private final Map<String, Tensor> got = new LinkedHashMap<>();

    Capture(Collection<String> wanted) {
        this.wanted = new LinkedHashSet<>(wanted);
    }

    /** Keeps v if node is wanted; true once every wanted node is held (the forward pass can return). */
    boolean put(String node, Tensor v) {
        if (wanted.contains(node)) got.put(node, v);
        return got.size() == wanted.size();
    }

    /** The captured tensors in the order they were asked for. */
    Map<String, Tensor> result() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String n : wanted) out.put(n, got.get(n));
        return out;
    }
}
