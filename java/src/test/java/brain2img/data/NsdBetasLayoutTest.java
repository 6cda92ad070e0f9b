package brain2img.data;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The three betas layouts give the same trials × voxels matrix: NSD's HDF5 chunked per voxel (a fixture made
 * with h5py, see make_fixtures.py: /betas (T,Z,Y,X) = (6,3,4,5), chunks (6,1,1,1)), a contiguous HDF5
 * (jhdf) and a NIfTI X×Y×Z×T, all holding value(t,z,y,x) = x + 10y + 100z − 1000t, divided by 300.
 */
class NsdBetasLayoutTest {
    @TempDir
    Path tmp;
    static final int X = 5, Y = 4, Z = 3, T = 6;

    private static float expected(int t, int fortran) {
        int x = fortran % X, y = (fortran / X) % Y, z = fortran / (X * Y);
        return (x + 10 * y + 100 * z - 1000 * t) / 300f;
    }

    @Test
    void chunkedContiguousAndNiftiAgree() throws IOException {
        Path chunked = tmp.resolve("chunked.hdf5");
        try (InputStream in = getClass().getResourceAsStream("betas_chunked.hdf5")) {
            Files.copy(in, chunked);
        }
        try (HdfFile h = new HdfFile(chunked)) {
            assertEquals(io.jhdf.object.message.DataLayout.CHUNKED, h.getDatasetByPath("/betas").getDataLayout());
        }
        short[][][][] data = new short[T][Z][Y][X];
        float[] nii = new float[X * Y * Z * T];
        for (int t = 0; t < T; t++) for (int z = 0; z < Z; z++) for (int y = 0; y < Y; y++) for (int x = 0; x < X; x++) {
            data[t][z][y][x] = (short) (x + 10 * y + 100 * z - 1000 * t);
            nii[x + X * (y + Y * (z + Z * t))] = data[t][z][y][x];
        }
        Path contiguous = tmp.resolve("contiguous.hdf5");
        try (WritableHdfFile w = HdfFile.write(contiguous)) {
            w.putDataset("betas", data);
        }
        Path nifti = tmp.resolve("betas.nii.gz");
        Nifti.write(nifti, new int[]{X, Y, Z, T}, Nifti.INT16, nii, 0f, 0f);

        int[] voxels = {0, 7, 23, 41, 59}; // Fortran indices into the X×Y×Z grid
        int[] dims = {X, Y, Z};
        float[] want = new float[T * voxels.length];
        for (int t = 0; t < T; t++) for (int j = 0; j < voxels.length; j++) want[t * voxels.length + j] = expected(t, voxels[j]);
        assertArrayEquals(want, NsdImporter.readSession(chunked, dims, voxels, T), 0f, "chunked HDF5");
        assertArrayEquals(want, NsdImporter.readSession(contiguous, dims, voxels, T), 0f, "contiguous HDF5");
        assertArrayEquals(want, NsdImporter.readSession(nifti, dims, voxels, T), 0f, "NIfTI");
    }

    /** NSD's imgBrick is uint8 (h5py fixture): values above 127 must not come back negative, axes (i, row, col, rgb). */
    @Test
    void uint8ImgBrickReadsAsRgbInUnitRange() throws IOException {
        Path f = tmp.resolve("brick.hdf5");
        try (InputStream in = getClass().getResourceAsStream("imgbrick_uint8.hdf5")) {
            Files.copy(in, f);
        }
        try (HdfFile h = new HdfFile(f)) {
            brain2img.tensor.Tensor img = NsdImporter.brickImage(h.getDatasetByPath("/imgBrick"), 1);
            assertArrayEquals(new long[]{3, 3, 4}, img.shape());
            for (int k = 0; k < 3; k++) for (int r = 0; r < 3; r++) for (int c = 0; c < 4; c++) {
                assertEquals((130 + 20 * r + 5 * c + k) / 255f, img.getFloat((k * 3 + r) * 4 + c), 0f, "k" + k + " r" + r + " c" + c);
            }
        }
    }
}
