package brain2img.sd;

/**
 * Maps a key of an original single-file checkpoint (component prefix already removed, e.g.
 * {@code input_blocks.1.0.in_layers.0.weight}) to its diffusers name, or null for keys the model does not use
 * (EMA copies, schedule buffers). One mapping table per component; the model code only knows diffusers names.
 */
@FunctionalInterface
public interface KeyMapping {
    String toDiffusers(String originalKey);

    KeyMapping IDENTITY = k -> k;
}
