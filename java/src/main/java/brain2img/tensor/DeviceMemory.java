package brain2img.tensor;

/**
 * A range of accelerator memory backing a device {@link Tensor}: an address only that device can dereference.
 * Made by a device backend ({@code brain2img.cuda.CudaBackend}); host code never reads it directly, it
 * downloads the tensor through the backend that owns it.
 */
public interface DeviceMemory {
    /** Which device, e.g. "cuda:0"; a backend refuses tensors of another device. */
    String device();

    /** Device address of the first byte. */
    long address();

    long byteSize();

    /** A view of {@code [offset, offset+bytes)} that keeps this memory alive and does not own it. */
    DeviceMemory slice(long offset, long bytes);

    /** Returns the memory to its allocator now; a no-op on views and after the first call. */
    void release();
}
