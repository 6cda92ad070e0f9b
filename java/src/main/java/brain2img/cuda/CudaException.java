package brain2img.cuda;

/**
 * A failed CUDA driver, cuBLAS or cuSOLVER call, or a missing library. The message names the call and the
 * status by its enum name, e.g. "cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY (2)".
 */
public final class CudaException extends RuntimeException {
    /** The raw status code, or -1 where the failure was not a status (a library or symbol not found). */
    public final int status;

    public CudaException(String message, int status) {
        super(message);
        this.status = status;
    }

    public CudaException(String message) {
        this(message, -1);
    }
}
