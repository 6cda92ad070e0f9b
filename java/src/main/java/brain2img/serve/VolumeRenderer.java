package brain2img.serve;

import brain2img.api.Reconstructor;

/** Turns a voxel vector into an image; {@link Reconstructor#reconstruct} is one. */
@FunctionalInterface
public interface VolumeRenderer {
    Reconstructor.Result reconstruct(float[] voxels);
}
