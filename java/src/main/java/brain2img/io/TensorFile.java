package brain2img.io;

import brain2img.tensor.DType;
import brain2img.tensor.Tensor;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** One file of named tensors: a safetensors file or a PyTorch checkpoint ({@link brain2img.io.torch.TorchFile}). */
public interface TensorFile extends AutoCloseable {
    Path file();

    /** Tensor names in file order. */
    List<String> names();

    boolean contains(String name);

    DType dtype(String name);

    long[] shape(String name);

    /** The tensor in its stored dtype, a view of the file where the layout allows. */
    Tensor get(String name);

    /** The tensor as f32: the stored tensor itself when it already is f32, else a converted heap copy. */
    default Tensor getF32(String name) {
        Tensor t = get(name);
        return t.dtype() == DType.F32 ? t : t.to(DType.F32);
    }

    /** String metadata the file carries (safetensors' {@code __metadata__}, a checkpoint's top-level scalars). */
    Map<String, String> metadata();

    @Override
    void close();
}
