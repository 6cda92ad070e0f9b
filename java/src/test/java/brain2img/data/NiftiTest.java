package brain2img.data;

import brain2img.io.FormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NiftiTest {
    @TempDir
    Path tmp;

    /** value(x,y,z,t) = x + 10y + 100z − 1000t, so a wrong axis order cannot go unnoticed. */
    private static float[] ramp(int[] d) {
        float[] v = new float[d[0] * d[1] * d[2] * d[3]];
        for (int t = 0; t < d[3]; t++)
            for (int z = 0; z < d[2]; z++)
                for (int y = 0; y < d[1]; y++)
                    for (int x = 0; x < d[0]; x++) v[x + d[0] * (y + d[1] * (z + d[2] * t))] = x + 10 * y + 100 * z - 1000 * t;
        return v;
    }

    @Test
    void int16FourDimensionalGzipStreamsVolumesInFortranOrder() throws IOException {
        int[] d = {3, 4, 5, 6};
        Path f = tmp.resolve("betas.nii.gz");
        Nifti.write(f, d, Nifti.INT16, ramp(d), 0f, 0f);
        Nifti.Header h = Nifti.header(f);
        assertArrayEquals(d, h.dims());
        assertEquals(Nifti.INT16, h.datatype());
        List<Float> firsts = new ArrayList<>();
        Nifti.readVolumes(f, (t, vol) -> {
            assertEquals(60, vol.length);
            firsts.add(vol[0]);
            assertEquals(2 + 10 * 3 + 100 * 4 - 1000 * t, vol[2 + 3 * (3 + 4 * 4)], 0f);
        });
        assertEquals(List.of(0f, -1000f, -2000f, -3000f, -4000f, -5000f), firsts);
    }

    @Test
    void affineIsWrittenAsSformAndReadBack() throws IOException {
        int[] d = {4, 3, 2};
        double[] a = {0, -2, 0, 10, 1.5, 0, 0, -20, 0, 0, 3, 5, 0, 0, 0, 1}; // a permuted, flipped grid
        Path f = tmp.resolve("map.nii");
        Nifti.write(f, d, Nifti.FLOAT32, new float[24], 0f, 0f, a);
        assertArrayEquals(a, Nifti.affine(f), 0);
        ByteBuffer h = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(1, h.getShort(254), "sform_code");
        assertEquals(0, h.getShort(252), "qform_code");
        assertEquals(-2f, h.getFloat(284), "srow_x[1]");
        assertEquals(5f, h.getFloat(324), "srow_z[3]");
        assertEquals(1.5f, h.getFloat(80), "pixdim[1] = length of the first grid axis");
        assertEquals(2f, h.getFloat(84), "pixdim[2]");
        assertEquals(3f, h.getFloat(88), "pixdim[3]");
        // the default is NSD's: 1.8 mm voxels, centred: offset (1 − (1+n)/2)·1.8
        Path g = tmp.resolve("nsd.nii");
        Nifti.write(g, d, Nifti.FLOAT32, new float[24], 0f, 0f);
        double[] nsd = Nifti.affine(g);
        assertEquals(1.8f, (float) nsd[0]);
        assertEquals(-2.7f, (float) nsd[3], 1e-6);
        assertEquals(-1.8f, (float) nsd[7], 1e-6);
        assertEquals(-0.9f, (float) nsd[11], 1e-6);
    }

    @Test
    void sclSlopeAndInterceptAreApplied() throws IOException {
        int[] d = {2, 2, 2, 1};
        float[] raw = ramp(d);
        Path f = tmp.resolve("scaled.nii");
        Nifti.write(f, d, Nifti.INT16, raw, 0.5f, 3f);
        float[] got = Nifti.readAll(f);
        for (int i = 0; i < raw.length; i++) assertEquals(raw[i] * 0.5f + 3f, got[i], 0f);
        Path f64 = tmp.resolve("roi.nii.gz");
        Nifti.write(f64, d, Nifti.FLOAT64, raw, 0f, 0f); // slope 0 = unscaled, as NSD writes them
        assertArrayEquals(raw, Nifti.readAll(f64), 0f);
    }

    @Test
    void bigEndianHeaderAndData() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(352 + 4 * 4).order(ByteOrder.BIG_ENDIAN);
        b.putInt(0, 348).putShort(40, (short) 3).putShort(42, (short) 2).putShort(44, (short) 2).putShort(46, (short) 1);
        b.putShort(70, (short) Nifti.FLOAT32).putShort(72, (short) 32).putFloat(108, 352);
        b.put(344, (byte) 'n').put(345, (byte) '+').put(346, (byte) '1');
        for (int i = 0; i < 4; i++) b.putFloat(352 + 4 * i, i * 1.5f);
        Path f = tmp.resolve("be.nii");
        Files.write(f, b.array());
        assertArrayEquals(new float[]{0, 1.5f, 3, 4.5f}, Nifti.readAll(f), 0f);
    }

    @Test
    void damagedFilesGiveClearErrors() throws IOException {
        int[] d = {4, 4, 4, 3};
        Path good = tmp.resolve("good.nii.gz");
        Nifti.write(good, d, Nifti.INT16, ramp(d), 0f, 0f);
        byte[] gz = Files.readAllBytes(good);

        Path cut = tmp.resolve("cut.nii.gz");
        Files.write(cut, Arrays.copyOf(gz, gz.length / 2));
        FormatException e = assertThrows(FormatException.class, () -> Nifti.readVolumes(cut, (t, v) -> {}));
        assertTrue(e.getMessage().startsWith(cut.toString()) && e.getMessage().matches(".*(truncated|unexpected end).*"), e.getMessage());

        Path plain = tmp.resolve("plain.nii");
        Nifti.write(plain, d, Nifti.INT16, ramp(d), 0f, 0f);
        byte[] raw = Files.readAllBytes(plain);
        Path shortData = tmp.resolve("short.nii");
        Files.write(shortData, Arrays.copyOf(raw, raw.length - 10));
        e = assertThrows(FormatException.class, () -> Nifti.readAll(shortData));
        assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("volume 2"), e.getMessage());

        byte[] magic = raw.clone();
        magic[344] = 'x';
        Path badMagic = tmp.resolve("magic.nii");
        Files.write(badMagic, magic);
        e = assertThrows(FormatException.class, () -> Nifti.header(badMagic));
        assertTrue(e.getMessage().contains("magic"), e.getMessage());

        byte[] type = raw.clone();
        ByteBuffer.wrap(type).order(ByteOrder.LITTLE_ENDIAN).putShort(70, (short) 32); // complex64
        Path badType = tmp.resolve("type.nii");
        Files.write(badType, type);
        e = assertThrows(FormatException.class, () -> Nifti.header(badType));
        assertTrue(e.getMessage().contains("unsupported NIfTI datatype 32"), e.getMessage());

        Path notNifti = tmp.resolve("junk.nii");
        Files.write(notNifti, new byte[400]);
        e = assertThrows(FormatException.class, () -> Nifti.header(notNifti));
        assertTrue(e.getMessage().contains("not a NIfTI-1 file"), e.getMessage());
    }
}
