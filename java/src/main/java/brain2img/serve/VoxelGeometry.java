package brain2img.serve;

import brain2img.data.Dataset;
import brain2img.io.FormatException;
import brain2img.io.Json;
import brain2img.io.Npy;
import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where a data set's voxels sit in the subject's volume: the grid's dims (X,Y,Z) and, per voxel, its C-order
 * index (x·Y + y)·Z + z over that grid (NumPy's {@code nii[mask > 0]} order, the NSD importer's).
 * Stored in the data set as {@code geometry/geometry.json} ({@code {"dims": [X,Y,Z]}}) and
 * {@code geometry/voxels.npy} (int, one index per voxel).
 */
record VoxelGeometry(int[] dims, int[] cIndex) {

    static Optional<VoxelGeometry> of(Dataset ds) {
        Path dir = ds.dir().resolve("geometry");
        Path json = dir.resolve("geometry.json"), idx = dir.resolve("voxels.npy");
        if (!Files.isRegularFile(json) || !Files.isRegularFile(idx)) return Optional.empty();
        JsonNode d = Json.read(json).path("dims");
        if (!d.isArray() || d.size() != 3) throw new FormatException(json + ": 'dims' must be [X, Y, Z]");
        int[] dims = {d.get(0).asInt(), d.get(1).asInt(), d.get(2).asInt()};
        int[] c = Npy.read(idx).toIntArray();
        if (c.length != ds.voxels()) throw new FormatException(idx + ": " + c.length + " voxel indices, the data set has " + ds.voxels() + " voxels");
        long size = (long) dims[0] * dims[1] * dims[2];
        for (int v : c) if (v < 0 || v >= size) throw new FormatException(idx + ": index " + v + " outside the " + dims[0] + "×" + dims[1] + "×" + dims[2] + " grid");
        return Optional.of(new VoxelGeometry(dims, c));
    }

    /** The data set's voxels of a volume stored x fastest (NIfTI's order). */
    float[] mask(float[] fortranOrder) {
        int ny = dims[1], nz = dims[2], nx = dims[0];
        float[] out = new float[cIndex.length];
        for (int i = 0; i < cIndex.length; i++) {
            int c = cIndex[i];
            int z = c % nz, y = (c / nz) % ny, x = c / (ny * nz);
            out[i] = fortranOrder[x + nx * (y + ny * z)];
        }
        return out;
    }
}
