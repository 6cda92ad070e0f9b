package brain2img.data;

import brain2img.io.FormatException;
import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableDataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MatFileTest {
    @TempDir
    Path tmp;

    private static MatFile.Var[] sample() {
        double[] frac = new double[2 * 3];
        for (int i = 0; i < frac.length; i++) frac[i] = i * 0.25 - 1; // stored as miDOUBLE
        double[] small = {1, 2, 3, 250};                               // integer doubles: stored as miUINT8
        double[] wide = {0, 1000, 65535};                              // stored as miUINT16
        double[] bytes = {0, 7, 255, 128};                             // class uint8
        return new MatFile.Var[]{
                new MatFile.Var("frac", new int[]{2, 3}, "double", frac),
                new MatFile.Var("small", new int[]{1, 4}, "double", small),
                new MatFile.Var("wide", new int[]{3, 1}, "double", wide),
                new MatFile.Var("img", new int[]{2, 2}, "uint8", bytes)};
    }

    @Test
    void levelFiveRoundTripPlainAndCompressed() throws IOException {
        for (boolean compress : new boolean[]{false, true}) {
            Path f = tmp.resolve("v5-" + compress + ".mat");
            MatFile.write(f, compress, sample());
            MatFile m = MatFile.read(f);
            for (MatFile.Var want : sample()) {
                MatFile.Var got = m.get(want.name());
                assertArrayEquals(want.dims(), got.dims(), want.name());
                assertEquals(want.matlabClass(), got.matlabClass());
                assertArrayEquals(want.data(), got.data(), 0, want.name());
            }
            assertEquals(-1 + 0.25 * 3, m.get("frac").at(1, 1)); // column-major: (1,1) is element 3
        }
    }

    /** Bytes laid out by hand from the MAT-file spec: a 1×2 double 'ab' = [1.5, -2] with a small-element name. */
    @Test
    void readsHandWrittenElementWithSmallDataElementName() throws IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(128 + 8 + 16 + 16 + 8 + 24).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        byte[] text = "MATLAB 5.0 MAT-file, hand made".getBytes();
        b.put(text);
        b.position(124);
        b.putShort((short) 0x0100).put((byte) 'I').put((byte) 'M');
        b.putInt(14).putInt(16 + 16 + 8 + 24);      // miMATRIX
        b.putInt(6).putInt(8).putInt(6).putInt(0);    // array flags: mxDOUBLE_CLASS
        b.putInt(5).putInt(8).putInt(1).putInt(2);    // dims 1×2
        b.putInt((2 << 16) | 1).put((byte) 'a').put((byte) 'b').putShort((short) 0); // small element: name "ab"
        b.putInt(9).putInt(16).putDouble(1.5).putDouble(-2);
        Path f = tmp.resolve("hand.mat");
        Files.write(f, b.array());
        MatFile.Var v = MatFile.read(f).get("ab");
        assertArrayEquals(new int[]{1, 2}, v.dims());
        assertArrayEquals(new double[]{1.5, -2}, v.data());
    }

    /** v7.3 files are HDF5: MATLAB dims are the reverse of the HDF5 shape, so h5[c][r] is element (r, c). */
    @Test
    void hdf5VariablesAreTransposedToMatlabDims() throws IOException {
        Path f = tmp.resolve("v73.mat");
        double[][] h5 = {{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}}; // HDF5 shape (3, 4) → MATLAB 4×3
        try (WritableHdfFile w = HdfFile.write(f)) {
            WritableDataset d = w.putDataset("X", h5);
            d.putAttribute("MATLAB_class", "double");
        }
        MatFile.Var x = MatFile.read(f).get("X");
        assertArrayEquals(new int[]{4, 3}, x.dims());
        for (int r = 0; r < 4; r++) for (int c = 0; c < 3; c++) assertEquals(h5[c][r], x.at(r, c));
        assertEquals("double", x.matlabClass());
    }

    /** A v7.3 file with MATLAB's 512-byte header before the HDF5 data (h5py fixture, see make_fixtures.py). */
    @Test
    void matlabV73WithUserBlock() throws IOException {
        Path f = tmp.resolve("v73.mat");
        try (java.io.InputStream in = getClass().getResourceAsStream("v73.mat")) {
            Files.copy(in, f);
        }
        MatFile m = MatFile.read(f);
        MatFile.Var x = m.get("X");
        assertArrayEquals(new int[]{2, 3}, x.dims());
        assertEquals(6.0, x.at(1, 2));
        assertEquals(2.0, x.at(0, 1));
        MatFile.Var s = m.get("stim");
        assertEquals("uint8", s.matlabClass());
        assertArrayEquals(new int[]{1, 4}, s.dims());
        assertArrayEquals(new double[]{0, 7, 200, 255}, s.data());
    }

    @Test
    void damagedFilesGiveClearErrors() throws IOException {
        Path good = tmp.resolve("good.mat");
        MatFile.write(good, false, sample());
        byte[] bytes = Files.readAllBytes(good);

        Path truncated = tmp.resolve("truncated.mat");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length - 20));
        assertMessage(truncated, "truncated");

        Path compressed = tmp.resolve("compressed.mat");
        MatFile.write(compressed, true, sample());
        byte[] z = Files.readAllBytes(compressed);
        for (int i = 128 + 8 + 2; i < 128 + 8 + 30; i++) z[i] ^= 0x5a; // scramble the first deflate block
        Path corrupt = tmp.resolve("corrupt.mat");
        Files.write(corrupt, z);
        assertMessage(corrupt, "compressed");

        Path notMat = tmp.resolve("text.mat");
        Files.writeString(notMat, "hello ".repeat(40));
        assertMessage(notMat, "not a MATLAB MAT file");

        FormatException e = assertThrows(FormatException.class, () -> MatFile.read(good).get("nope"));
        assertTrue(e.getMessage().contains("frac, small, wide, img"), e.getMessage());
    }

    private static void assertMessage(Path f, String part) {
        FormatException e = assertThrows(FormatException.class, () -> MatFile.read(f));
        assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains(part), e.getMessage());
    }
}
