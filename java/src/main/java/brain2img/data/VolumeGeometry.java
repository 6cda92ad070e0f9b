package brain2img.data;

import java.util.Arrays;
import java.util.BitSet;

/**
 * Where a data set's voxels sit in the subject's volume, kept at import so that per-voxel results can be
 * written back as NIfTI volumes: the grid {@code dims} (X, Y, Z), the voxel-to-world {@code affine} (4×4,
 * row-major, NIfTI's sform) and, for each voxel column j of the responses, its index
 * {@code x + X·(y + Y·z)} into the grid (Fortran order, as NIfTI stores data).
 */
public record VolumeGeometry(int[] dims, double[] affine, int[] voxelIndex) {
    public VolumeGeometry {
        if (dims == null || dims.length != 3 || Arrays.stream(dims).anyMatch(d -> d < 1)) {
            throw new IllegalArgumentException("geometry: dims must be 3 positive sizes, got " + Arrays.toString(dims));
        }
        if (affine == null || affine.length != 16) throw new IllegalArgumentException("geometry: affine must have 16 values (4×4), got "
                + (affine == null ? "none" : affine.length));
        long size = (long) dims[0] * dims[1] * dims[2];
        BitSet seen = new BitSet();
        for (int j = 0; j < voxelIndex.length; j++) {
            int i = voxelIndex[j];
            if (i < 0 || i >= size) throw new IllegalArgumentException("geometry: voxel " + j + " has grid index " + i + " outside [0, " + size + ")");
            if (seen.get(i)) throw new IllegalArgumentException("geometry: grid index " + i + " is used by two voxels (voxel " + j + ")");
            seen.set(i);
        }
        dims = dims.clone();
        affine = affine.clone();
        voxelIndex = voxelIndex.clone();
    }

    /** NSD's convention (nsd_savenifti): isotropic voxels of side {@code mm} centred on the grid, LPI. */
    public static double[] centredAffine(int[] dims, float mm) {
        double[] a = new double[16];
        for (int r = 0; r < 3; r++) {
            a[r * 4 + r] = mm;
            a[r * 4 + 3] = (1 - (1 + dims[r]) / 2f) * mm; // in float, as Nifti.write stores it
        }
        a[15] = 1;
        return a;
    }

    public int gridSize() {
        return dims[0] * dims[1] * dims[2];
    }

    @Override
    public int[] dims() { return dims.clone(); }

    @Override
    public double[] affine() { return affine.clone(); }

    @Override
    public int[] voxelIndex() { return voxelIndex.clone(); }

    @Override
    public boolean equals(Object o) {
        return o instanceof VolumeGeometry g && Arrays.equals(dims, g.dims) && Arrays.equals(affine, g.affine)
                && Arrays.equals(voxelIndex, g.voxelIndex);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims) * 31 + Arrays.hashCode(voxelIndex);
    }
}
