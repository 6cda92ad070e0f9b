package brain2img.io;

import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import brain2img.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpyTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64", "F16", "I32", "I64", "U8"})
    void roundTripsEverySupportedDtype(DType dtype) throws IOException {
        Tensor src = Tensor.of(new float[]{0, 1, 2, 3, 4, 5, 6, 250, 9, 10, 11, 12}, 2, 3, 2).to(dtype);
        Path f = tmp.resolve(dtype + ".npy");
        Npy.write(f, src);
        byte[] bytes = Files.readAllBytes(f);
        // header: magic, version 1.0, then a 64-byte aligned header terminated by a newline
        assertEquals(1, bytes[6]);
        int headerLen = (bytes[8] & 0xff) | (bytes[9] & 0xff) << 8;
        assertEquals(0, (10 + headerLen) % 64);
        assertEquals('\n', bytes[10 + headerLen - 1]);
        Tensor back = Npy.read(f);
        assertEquals(dtype, back.dtype());
        assertArrayEquals(new long[]{2, 3, 2}, back.shape());
        assertArrayEquals(src.toFloatArray(), back.toFloatArray());
    }

    @Test
    void rowsWrittenOneByOneReadBackAsTheWholeArray() throws IOException {
        Path f = tmp.resolve("rows.npy");
        Npy.writeRows(f, 3, 2, rows -> {
            float[] row = new float[2];
            for (int i = 0; i < 3; i++) {
                row[0] = i;
                row[1] = -0.5f * i;
                rows.row(row); // the same array each time: the writer copies it out
            }
        });
        Tensor t = Npy.map(f);
        assertArrayEquals(new long[]{3, 2}, t.shape());
        assertArrayEquals(new float[]{0, -0f, 1, -0.5f, 2, -1}, t.toFloatArray());
        // a short row, a row count other than announced: an error naming the file, and no file left
        for (int n : new int[]{2, 4}) {
            Path bad = tmp.resolve("bad" + n + ".npy");
            var e = assertThrows(IllegalArgumentException.class, () -> Npy.writeRows(bad, 3, 2, rows -> {
                for (int i = 0; i < n; i++) rows.row(new float[2]);
            }));
            assertTrue(e.getMessage().startsWith(bad.toString()), e.getMessage());
            assertFalse(Files.exists(bad));
        }
        assertThrows(IllegalArgumentException.class, () -> Npy.writeRows(tmp.resolve("w.npy"), 1, 2, rows -> rows.row(new float[3])));
        try (var listing = Files.list(tmp)) {
            assertEquals(0, listing.filter(p -> p.getFileName().toString().endsWith(".part")).count(), "no temporary file left");
        }
    }

    @Test
    void scalarAndOneDimensionalShapes() throws IOException {
        Path f = tmp.resolve("v.npy");
        Npy.write(f, Tensor.of(new float[]{1, 2, 3}, 3));
        String header = new String(Files.readAllBytes(f), 10, 60, StandardCharsets.ISO_8859_1);
        assertTrue(header.contains("'shape': (3,)"), header);
        assertArrayEquals(new long[]{3}, Npy.read(f).shape());
        Npy.write(f, Tensor.of(new float[]{7}));
        assertArrayEquals(new long[]{}, Npy.read(f).shape());
        assertEquals(7f, Npy.read(f).getFloat(0));
    }

    @Test
    void readsTheGoldenArrays() {
        Path cases = Shared.sdTiny().resolve("cases");
        Tensor ids = Npy.read(cases.resolve("token_ids.npy"));
        assertEquals(DType.I32, ids.dtype());
        assertArrayEquals(new long[]{10, 77}, ids.shape());
        assertEquals(49406, ids.getLong(0));
        Tensor t = Npy.read(cases.resolve("unet_in_timesteps.npy"));
        assertEquals(DType.I64, t.dtype());
        assertArrayEquals(new long[]{981, 500, 1}, t.toLongArray());
        assertArrayEquals(new long[]{3, 4, 8, 8}, Npy.read(cases.resolve("unet_in_latent.npy")).shape());
    }

    private Path withHeader(String name, String dict, int dataBytes, int version) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[]{(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) version, 0});
        byte[] h = (dict + "\n").getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer len = ByteBuffer.allocate(version == 1 ? 2 : 4).order(ByteOrder.LITTLE_ENDIAN);
        if (version == 1) len.putShort((short) h.length); else len.putInt(h.length);
        out.write(len.array());
        out.write(h);
        out.write(new byte[dataBytes]);
        Path f = tmp.resolve(name);
        Files.write(f, out.toByteArray());
        return f;
    }

    @Test
    void version2HeadersAreRead() throws IOException {
        Path f = withHeader("v2.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", 32, 2);
        Tensor t = Npy.read(f);
        assertEquals(DType.F64, t.dtype());
        assertArrayEquals(new long[]{2, 2}, t.shape());
    }

    private static void assertRejected(Path f, String fragment) {
        FormatException e = assertThrows(FormatException.class, () -> Npy.read(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains(fragment), e.getMessage());
    }

    @Test
    void unsupportedLayoutsAreClearErrors() throws IOException {
        assertRejected(withHeader("f.npy", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16, 1), "Fortran");
        assertRejected(withHeader("be.npy", "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8, 1), "big-endian");
        assertRejected(withHeader("c.npy", "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16, 1), "<c8");
        assertRejected(withHeader("short.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", 8, 1), "truncated");
        Path junk = tmp.resolve("junk.npy");
        Files.writeString(junk, "hello world, not numpy");
        assertRejected(junk, "magic");
        assertRejected(tmp.resolve("missing.npy"), "no such file");
    }

    /** A file cut anywhere says which part is short and by how much, never "cannot read (null)". */
    @Test
    void truncatedFilesNameExpectedAndAvailableBytes() throws IOException {
        Path whole = tmp.resolve("whole.npy");
        Npy.write(whole, Tensor.of(new float[]{1, 2, 3, 4, 5, 6}, 2, 3));
        byte[] bytes = Files.readAllBytes(whole);        // 128-byte v1.0 header (10-byte prefix), then 24 data bytes
        assertEquals(128 + 24, bytes.length);
        String[][] cuts = {
                {"7", "the version needs 2 bytes, only 1 left"},
                {"9", "the header length needs 2 bytes, only 1 left"},
                {"60", "the header needs 118 bytes, only 50 left"},
                {"140", "header promises 24 data bytes for f32[2, 3], file has 12"},
        };
        for (String[] c : cuts) {
            Path cut = tmp.resolve("cut" + c[0] + ".npy");
            Files.write(cut, java.util.Arrays.copyOf(bytes, Integer.parseInt(c[0])));
            FormatException e = assertThrows(FormatException.class, () -> Npy.read(cut));
            assertEquals(cut + ": " + (c[0].equals("140") ? "truncated: " : "truncated .npy file: ") + c[1], e.getMessage());
            assertFalse(e.getMessage().contains("null"), e.getMessage());
            e = assertThrows(FormatException.class, () -> Npy.map(cut));
            assertTrue(e.getMessage().startsWith(cut + ": truncated"), e.getMessage());
        }
    }

    @Test
    void npzArchivesAreReadByName() throws IOException {
        Path a = tmp.resolve("a.npy"), b = tmp.resolve("b.npy");
        Npy.write(a, Tensor.of(new float[]{1, 2}, 2));
        Npy.write(b, Tensor.ofInts(new int[]{5, 6, 7}, 3));
        Path z = tmp.resolve("x.npz");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(z))) {
            for (Path p : new Path[]{a, b}) {
                zip.putNextEntry(new ZipEntry(p.getFileName().toString()));
                zip.write(Files.readAllBytes(p));
                zip.closeEntry();
            }
        }
        Map<String, Tensor> all = Npy.readNpz(z);
        assertEquals(java.util.List.of("a", "b"), java.util.List.copyOf(all.keySet()));
        assertArrayEquals(new int[]{5, 6, 7}, all.get("b").toIntArray());
    }
}
