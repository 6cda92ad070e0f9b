package brain2img.serve;

import brain2img.data.Dataset;
import brain2img.data.Nifti;
import brain2img.data.VolumeGeometry;
import brain2img.io.FormatException;
import brain2img.io.Npy;
import brain2img.tensor.Tensor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Reads one volume file into the data set's voxel vector.
 * <ul>
 *   <li>{@code .npy}: the data set's voxels, shape (V,) or (1,V), any numeric dtype;</li>
 *   <li>{@code .nii} / {@code .nii.gz}: one 3-D volume in the subject's space, masked with the data set's
 *       {@link VolumeGeometry} (each voxel's index into the grid, kept at NSD import); a data set without geometry
 *       refuses NIfTI input.</li>
 * </ul>
 * Every problem is a {@link FormatException} naming the file.
 */
final class VolumeFiles {
    private final int voxels;
    private final VolumeGeometry geometry; // null: no NIfTI input

    VolumeFiles(Dataset ds) {
        this.voxels = ds.voxels();
        this.geometry = ds.geometry().orElse(null);
    }

    /** True for the names a watched folder treats as volumes (hidden and partial files are not). */
    static boolean isVolumeName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return !n.startsWith(".") && (n.endsWith(".npy") || n.endsWith(".nii") || n.endsWith(".nii.gz"));
    }

    float[] read(Path file) {
        String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (n.endsWith(".npy")) return fromNpy(file);
        if (n.endsWith(".nii") || n.endsWith(".nii.gz")) return fromNifti(file);
        throw new FormatException(file + ": not a volume (.npy, .nii or .nii.gz)");
    }

    private float[] fromNpy(Path file) {
        if (!Files.isRegularFile(file)) throw new FormatException(file + ": no such file");
        Tensor t = Npy.read(file);
        return checked(t, file.toString());
    }

    /** The voxel vector of an array that should hold one volume: (V,) or (1,V). */
    float[] checked(Tensor t, String what) {
        boolean ok = (t.rank() == 1 && t.dim(0) == voxels) || (t.rank() == 2 && t.dim(0) == 1 && t.dim(1) == voxels);
        if (!ok) throw new FormatException(what + ": shape " + t.shapeString() + ", expected (" + voxels + ",) — the run's data set has " + voxels + " voxels");
        float[] v = t.toFloatArray();
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) throw new FormatException(what + ": value " + i + " is " + v[i] + " (not finite)");
        }
        return v;
    }

    private float[] fromNifti(Path file) {
        if (geometry == null) throw new FormatException(file + ": NIfTI input needs the data set's volume geometry, and this data set has none (send .npy voxel vectors)");
        Nifti.Header h = Nifti.header(file);
        int[] dims = geometry.dims();
        if (h.x() != dims[0] || h.y() != dims[1] || h.z() != dims[2] || h.t() != 1) {
            throw new FormatException(file + ": volume " + h.x() + "×" + h.y() + "×" + h.z() + "×" + h.t() + ", expected one "
                    + dims[0] + "×" + dims[1] + "×" + dims[2] + " volume in the data set's space");
        }
        float[] vol = Nifti.readAll(file); // Fortran order, as the geometry's grid indices
        int[] idx = geometry.voxelIndex();
        float[] v = new float[idx.length];
        for (int j = 0; j < idx.length; j++) v[j] = vol[idx[j]];
        for (int j = 0; j < v.length; j++) {
            if (!Float.isFinite(v[j])) throw new FormatException(file + ": voxel " + j + " is " + v[j] + " (not finite)");
        }
        return v;
    }
}
