package brain2img.io.torch;

import brain2img.io.FormatException;
import brain2img.io.SafeTensors;
import brain2img.io.WeightFile;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checkpoints written by torch 1.13 ({@code tools/make_torch_checkpoints.py}) read back bit for bit against the
 * values the same script wrote to {@code expected.safetensors}.
 */
class TorchFileTest {
    /** The flat dict's tensors, in the order torch pickled them. */
    static final List<String> FLAT = List.of("0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
            "1.running_var", "1.num_batches_tracked", "half", "bfloat", "double", "int32", "int64", "uint8", "mask",
            "transposed", "view_a", "view_b", "param", "empty");
    static final List<String> NESTED = List.of("module.conv1.weight", "module.fc.weight", "module.fc.bias");

    @TempDir
    Path tmp;

    static Path resource(String name) {
        try {
            return Path.of(TorchFileTest.class.getResource("/brain2img/io/torch/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new AssertionError("test resource " + name + " missing (run tools/make_torch_checkpoints.py)", e);
        }
    }

    /** Same dtype, shape and bytes: exact equality, NaN patterns and signed zeros included. */
    static void assertSameTensor(Tensor expected, Tensor actual, String name) {
        assertEquals(expected.dtype(), actual.dtype(), name + " dtype");
        assertArrayEquals(expected.shape(), actual.shape(), name + " shape");
        long bytes = expected.numel() * expected.dtype().bytes;
        assertArrayEquals(expected.segment().asSlice(0, bytes).toArray(ValueLayout.JAVA_BYTE),
                actual.segment().asSlice(0, bytes).toArray(ValueLayout.JAVA_BYTE), name + " values");
    }

    @ParameterizedTest
    @ValueSource(strings = {"zip.pth", "legacy.pth", "zip64.pth", "deflated.pth"})
    void everyTensorOfTheFlatDictIsExact(String file) {
        try (SafeTensors expected = SafeTensors.open(resource("expected.safetensors"));
             WeightFile w = WeightFile.open(resource(file))) {
            assertEquals(FLAT, w.names(), file);
            for (String n : FLAT) {
                assertSameTensor(expected.get(n), w.get(n), file + ":" + n);
                assertEquals(expected.dtype(n), w.dtype(n));
                assertArrayEquals(expected.shape(n), w.shape(n));
                assertArrayEquals(expected.shape(n), w.entry(n).shape());
            }
            // spot values computed by hand from the script, so a shared mistake in both files cannot pass
            assertEquals(17L, w.get("1.num_batches_tracked").getLong(0));
            assertArrayEquals(new long[]{-(1L << 40), 1, 1L << 62}, w.get("int64").toLongArray());
            assertArrayEquals(new long[]{1, 0, 1, 0, 0, 1}, w.get("mask").toLongArray());
            assertArrayEquals(new float[]{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}, w.get("transposed").toFloatArray());
            assertArrayEquals(new long[]{0, 3}, w.shape("empty"));
        }
    }

    @Test
    void contiguousTensorsAreViewsOfTheMappedFileAndTransposedOnesCopies() {
        try (TorchFile f = TorchFile.open(resource("zip.pth"))) {
            assertEquals(TorchFile.Format.ZIP, f.format());
            assertTrue(f.get("0.weight").segment().isMapped(), "stored record mapped, not copied");
            assertTrue(f.get("view_b").segment().isMapped());
            assertFalse(f.get("transposed").segment().isMapped(), "stride (1,4) is copied to C order");
        }
        try (TorchFile f = TorchFile.open(resource("legacy.pth"))) {
            assertEquals(TorchFile.Format.LEGACY, f.format());
            assertTrue(f.get("0.weight").segment().isMapped());
        }
    }

    @Test
    void twoViewsOfOneStorageKeepTheirOffsets() {
        // view_a = base[3:9] as (2,3), view_b = base.view(4,5)[2] = base[10:15]: both from the same 20 floats
        for (String file : List.of("zip.pth", "legacy.pth")) {
            try (TorchFile f = TorchFile.open(resource(file))) {
                Tensor a = f.get("view_a"), b = f.get("view_b");
                long baseA = a.segment().address() - 3 * 4, baseB = b.segment().address() - 10 * 4;
                assertEquals(baseA, baseB, file + ": one storage, offsets 3 and 10");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"nested.pth.tar", "nested_legacy.pth.tar"})
    void aTrainingCheckpointGivesItsStateDictAndScalarsAsMetadata(String file) {
        try (SafeTensors expected = SafeTensors.open(resource("expected.safetensors"));
             WeightFile w = WeightFile.open(resource(file))) {
            assertEquals(NESTED, w.names());
            for (String n : NESTED) assertSameTensor(expected.get(n), w.get(n), file + ":" + n);
            var meta = w.files().getFirst().metadata();
            assertEquals("3", meta.get("epoch"));
            assertEquals("resnet50", meta.get("arch"));
            assertEquals("0.5", meta.get("best_acc1"));
            assertFalse(meta.containsKey("milestones"), "lists are not metadata");
        }
        try (WeightFile top = WeightFile.openTorch(resource(file), "");
             WeightFile sub = WeightFile.openTorch(resource(file), "state_dict")) {
            assertEquals(List.of("state_dict.module.conv1.weight", "state_dict.module.fc.weight", "state_dict.module.fc.bias"),
                    top.names(), "the whole checkpoint flattened with dots");
            assertEquals(NESTED, sub.names());
        }
        FormatException e = assertThrows(FormatException.class, () -> WeightFile.openTorch(resource(file), "model").close());
        assertTrue(e.getMessage().contains("'model'") && e.getMessage().contains("'state_dict', 'epoch'"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"pytorch_model.bin", "last.ckpt", "weights.pt", "no-extension"})
    void theFormatIsDetectedByContentNotName(String name) throws IOException {
        for (String src : List.of("zip.pth", "legacy.pth")) {
            Path copy = tmp.resolve(src + "-" + name);
            Files.copy(resource(src), copy);
            try (WeightFile w = WeightFile.open(copy)) {
                assertEquals(FLAT, w.names());
            }
        }
    }

    @Test
    void aFolderWithOneCheckpointOpensIt() throws IOException {
        Files.copy(resource("nested.pth.tar"), tmp.resolve("swav.pth.tar"));
        Files.writeString(tmp.resolve("notes.txt"), "not weights");
        try (WeightFile w = WeightFile.open(tmp)) {
            assertEquals(NESTED, w.names());
        }
    }

    @Test
    void aShardedIndexMayPointAtCheckpoints() throws IOException {
        Files.copy(resource("nested.pth.tar"), tmp.resolve("pytorch_model-1.bin"));
        Files.copy(resource("zip.pth"), tmp.resolve("pytorch_model-2.bin"));
        Path index = tmp.resolve("pytorch_model.bin.index.json");
        Files.writeString(index, """
                {"weight_map": {"module.fc.bias": "pytorch_model-1.bin", "half": "pytorch_model-2.bin"}}""");
        try (WeightFile w = WeightFile.open(index)) {
            assertNotNull(w.get("module.fc.bias"));
            assertEquals(DType.F16, w.dtype("half"));
        }
    }
}
