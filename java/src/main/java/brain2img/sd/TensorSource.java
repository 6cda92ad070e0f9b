package brain2img.sd;

import brain2img.tensor.Tensor;

import java.util.Set;

/** The tensors of one model component under diffusers key names, whatever layout they were stored in. */
public interface TensorSource {
    /** Where the tensors come from (file, and the key prefix for a single file), for error messages. */
    String describe();

    Set<String> names();

    boolean contains(String name);

    /** The tensor as f32 (a zero-copy view for f32 files); a clear error naming file and key when missing. */
    Tensor get(String name);

    /** Like {@link #get} but also checks the shape, naming key, expected and found shapes on mismatch. */
    default Tensor get(String name, long... expectedShape) {
        Tensor t = get(name);
        if (!java.util.Arrays.equals(t.shape(), expectedShape)) {
            throw new brain2img.io.FormatException(describe() + ": '" + name + "' has shape "
                    + java.util.Arrays.toString(t.shape()) + ", expected " + java.util.Arrays.toString(expectedShape));
        }
        return t;
    }
}
