package brain2img.io;

import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import brain2img.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafeTensorsTest {
    @TempDir
    Path tmp;

    @Test
    void opensEveryGoldenWeightFile() throws IOException {
        Path root = Shared.sdTiny();
        List<Path> files;
        try (Stream<Path> s = Files.walk(root)) {
            files = s.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList();
        }
        assertEquals(4, files.size(), "text_encoder, unet, vae and the single file: " + files);
        for (Path f : files) {
            try (SafeTensors st = SafeTensors.open(f)) {
                assertFalse(st.names().isEmpty(), f + " lists no tensors");
                for (String n : st.names()) {
                    Tensor t = st.get(n);
                    assertEquals(Tensor.numel(st.entry(n).shape()), t.numel(), n);
                    if (t.dtype().isFloating() && t.numel() > 0) {
                        float v = st.getF32(n).getFloat(t.numel() - 1); // last element is inside the mapping
                        assertTrue(Float.isFinite(v), f + ":" + n);
                    }
                }
            }
        }
        try (SafeTensors st = SafeTensors.open(root.resolve("weights/unet/diffusion_pytorch_model.safetensors"))) {
            assertArrayEquals(new long[]{32, 4, 3, 3}, st.entry("conv_in.weight").shape());
            assertEquals(DType.F32, st.entry("conv_in.weight").dtype());
        }
    }

    @Test
    void writerRoundTripsDtypesShapesAndMetadata() throws IOException {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("a", Tensor.of(new float[]{1, 2, 3, 4, 5, 6}, 2, 3));
        m.put("h", Tensor.of(new float[]{0.5f, -1f}, 2).to(DType.F16));
        m.put("b", Tensor.of(new float[]{3.25f}, 1).to(DType.BF16));
        m.put("i", Tensor.ofInts(new int[]{7, -8}, 2).to(DType.I64));
        m.put("empty", Tensor.zeros(0, 4));
        Path f = tmp.resolve("out.safetensors");
        SafeTensors.write(f, m, Map.of("alpha", "1e-2", "note", "ünïcode"));
        try (SafeTensors st = SafeTensors.open(f)) {
            assertEquals(List.of("a", "h", "b", "i", "empty"), st.names());
            assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6}, st.get("a").toFloatArray());
            assertEquals(DType.F16, st.get("h").dtype());
            assertArrayEquals(new float[]{0.5f, -1f}, st.getF32("h").toFloatArray());
            assertEquals(3.25f, st.getF32("b").getFloat(0));
            assertArrayEquals(new long[]{7, -8}, st.get("i").toLongArray());
            assertArrayEquals(new long[]{0, 4}, st.get("empty").shape());
            assertEquals("ünïcode", st.metadata().get("note"));
        }
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(1, s.count(), "no temporary file left beside the output");
        }
    }

    /** Writes a raw safetensors file from a header string and a data size. */
    private Path raw(String name, String header, int dataBytes) throws IOException {
        byte[] hb = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + hb.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(hb.length).put(hb);
        Path f = tmp.resolve(name);
        Files.write(f, buf.array());
        return f;
    }

    private static void assertRejected(Path f, String... fragments) {
        FormatException e = assertThrows(FormatException.class, () -> SafeTensors.open(f).close());
        assertTrue(e.getMessage().contains(f.toString()), "names the file: " + e.getMessage());
        for (String s : fragments) assertTrue(e.getMessage().contains(s), "mentions '" + s + "': " + e.getMessage());
    }

    @Test
    void damagedFilesAreRejectedNamingFileAndKey() throws IOException {
        String ok = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";
        assertRejected(raw("short.safetensors", ok, 8), "'w'", "outside");                  // truncated data
        assertRejected(raw("badjson.safetensors", "{\"w\": {", 0), "JSON");
        assertRejected(raw("overlap.safetensors",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"v\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), "overlap");
        assertRejected(raw("size.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8), "'w'", "needs 12");
        assertRejected(raw("dtype.safetensors", "{\"w\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8), "'w'", "C64");
        Path tiny = tmp.resolve("tiny.safetensors");
        Files.write(tiny, new byte[]{1, 2, 3});
        assertRejected(tiny, "too short");
        Path huge = tmp.resolve("huge.safetensors");
        Files.write(huge, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
        assertRejected(huge, "header length");
    }

    @Test
    void truncatedCopyOfAGoldenFileIsRejected() throws IOException {
        Path src = Shared.sdTiny().resolve("weights/vae/diffusion_pytorch_model.safetensors");
        byte[] all = Files.readAllBytes(src);
        Path cut = tmp.resolve("vae-truncated.safetensors");
        Files.write(cut, Arrays.copyOf(all, all.length - 1000));
        assertRejected(cut, "truncated");
    }

    @Test
    void shardedIndexServesTensorsFromEveryShard() throws IOException {
        SafeTensors.write(tmp.resolve("m-1.safetensors"), Map.of("x", Tensor.of(new float[]{1, 2}, 2)), null);
        SafeTensors.write(tmp.resolve("m-2.safetensors"), Map.of("y", Tensor.of(new float[]{3}, 1)), null);
        Path idx = tmp.resolve("m.safetensors.index.json");
        Files.writeString(idx, "{\"metadata\":{},\"weight_map\":{\"x\":\"m-1.safetensors\",\"y\":\"m-2.safetensors\"}}");
        try (WeightFile w = WeightFile.open(idx)) {
            assertEquals(List.of("x", "y"), w.names());
            assertEquals(3f, w.getF32("y").getFloat(0));
            FormatException e = assertThrows(FormatException.class, () -> w.get("z"));
            assertTrue(e.getMessage().contains("'z'"), e.getMessage());
        }
        Files.writeString(idx, "{\"weight_map\":{\"x\":\"m-2.safetensors\"}}");
        FormatException e = assertThrows(FormatException.class, () -> WeightFile.open(idx).close());
        assertTrue(e.getMessage().contains("'x'") && e.getMessage().contains("m-2.safetensors"), e.getMessage());
    }
}
