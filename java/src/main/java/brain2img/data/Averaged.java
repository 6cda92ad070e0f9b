package brain2img.data;

import brain2img.tensor.Tensor;

/** Per-image means of repeated trials: row i of {@code responses} (images × voxels, f32) is image {@code imageIds[i]}. */
public record Averaged(int[] imageIds, Tensor responses) {}
