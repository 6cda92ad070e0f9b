package brain2img.sd;

/**
 * Maps a key of an original single-file checkpoint (component prefix already removed, e.g.
 * {@code input_blocks.1.0.in_layers.0.weight}) to its diffusers name, or null for keys the model does not use
 * (EMA copies, schedule buffers). One mapping table per component; the model code only knows diffusers names.
 */
@FunctionalInterface
public interface KeyMapping {
    String toDiffusers(String originalKey);

    /**
     * The shape the model expects for a stored tensor, as a view of the same element count (no copy). The VAE
     * uses it to read original 1×1-convolution attention weights [C,C,1,1] as the linear [C,C] of diffusers.
     * By default the stored shape.
     */
    default long[] viewShape(String originalKey, long[] storedShape) {
        return storedShape;
    }

    KeyMapping IDENTITY = k -> k;
}
