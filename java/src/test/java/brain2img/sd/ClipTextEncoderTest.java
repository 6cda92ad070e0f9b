package brain2img.sd;

import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.io.FormatException;
import brain2img.io.Npy;
import brain2img.io.SafeTensors;
import brain2img.io.WeightFile;
import brain2img.tensor.Tensor;
import brain2img.testing.Assert;
import brain2img.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClipTextEncoderTest {
    private static final double TOL = 1e-4;
    private final Backend be = new CpuBackend();

    @Test
    void diffusersFolderMatchesTheReferenceHiddenStates() {
        Path g = Shared.sdTiny();
        try (SdSource src = SdSource.open(g.resolve("weights"), null)) {
            ClipTextEncoder enc = ClipTextEncoder.load(src, be);
            Tensor ids = Npy.read(g.resolve("cases/token_ids.npy"));
            Tensor got = be.download(enc.encode(ids));
            Assert.assertClose(Npy.read(g.resolve("cases/text_hidden.npy")), got, TOL, "text_hidden (diffusers folder)");
        }
    }

    @Test
    void singleFileMatchesTheReferenceHiddenStates() {
        Path g = Shared.sdTiny();
        try (SdSource src = SdSource.open(g.resolve("single-file.safetensors"), g.resolve("weights"))) {
            ClipTextEncoder enc = ClipTextEncoder.load(src, be);
            ClipTokenizer tok = ClipTokenizer.load(src.tokenizerDir());
            Tensor got = be.download(enc.encodeTexts(tok, ClipTokenizerTest.captions(g)));
            Assert.assertClose(Npy.read(g.resolve("cases/text_hidden.npy")), got, TOL, "text_hidden (single file, from text)");
        }
    }

    /** The causal mask: a row only depends on the ids up to its position; shorter inputs give the same prefix. */
    @Test
    void causalityAndBatchIndependence() {
        Path g = Shared.sdTiny();
        try (SdSource src = SdSource.open(g.resolve("weights"), null)) {
            ClipTextEncoder enc = ClipTextEncoder.load(src, be);
            int[] a = new int[77], b = new int[77];
            for (int i = 0; i < 77; i++) {
                a[i] = 49406 + (i == 0 ? 0 : 1);
                b[i] = i < 10 ? a[i] : 1000 + i; // same first 10 ids, different tail
            }
            float[] both = enc.encode(ClipTextEncoder.ids(new int[][]{a, b})).toFloatArray();
            float[] alone = enc.encode(ClipTextEncoder.ids(new int[][]{b})).toFloatArray();
            int d = enc.config().width();
            for (int i = 0; i < 10 * d; i++) assertTrue(Math.abs(both[i] - both[77 * d + i]) < 1e-5f, "prefix row element " + i);
            for (int i = 0; i < 77 * d; i++) assertTrue(Math.abs(both[77 * d + i] - alone[i]) < 1e-5f, "batch row element " + i);
            float[] prefix = enc.encode(ClipTextEncoder.ids(new int[][]{java.util.Arrays.copyOf(a, 10)})).toFloatArray();
            for (int i = 0; i < 10 * d; i++) assertTrue(Math.abs(prefix[i] - both[i]) < 1e-5f, "length-10 input element " + i);
        }
    }

    @Test
    void missingOrMisshapedWeightsAreNamed(@TempDir Path tmp) throws IOException {
        Path g = Shared.sdTiny();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (WeightFile w = WeightFile.open(g.resolve("weights/text_encoder/model.safetensors"))) {
            for (String n : w.names()) tensors.put(n, w.getF32(n).copy());
        }
        String dropped = "text_model.encoder.layers.1.mlp.fc2.bias";
        String reshaped = "text_model.encoder.layers.2.self_attn.k_proj.weight";

        Map<String, Tensor> missing = new LinkedHashMap<>(tensors);
        missing.remove(dropped);
        String msg = loadFails(tmp.resolve("missing"), g, missing);
        assertTrue(msg.contains(dropped), msg);

        Map<String, Tensor> wrong = new LinkedHashMap<>(tensors);
        wrong.put(reshaped, Tensor.zeros(16, 64));
        msg = loadFails(tmp.resolve("wrong"), g, wrong);
        assertTrue(msg.contains(reshaped) && msg.contains("[16, 64]") && msg.contains("[32, 32]"), msg);
    }

    private String loadFails(Path dir, Path golden, Map<String, Tensor> tensors) throws IOException {
        Files.createDirectories(dir.resolve("text_encoder"));
        Files.copy(golden.resolve("weights/text_encoder/config.json"), dir.resolve("text_encoder/config.json"));
        SafeTensors.write(dir.resolve("text_encoder/model.safetensors"), tensors, Map.of());
        try (SdSource src = SdSource.open(dir, null)) {
            return assertThrows(FormatException.class, () -> ClipTextEncoder.load(src, be)).getMessage();
        }
    }

    @Test
    void singleFileKeyMapping() {
        assertEquals("text_model.encoder.layers.0.mlp.fc1.weight", ClipTextEncoder.KEYS.toDiffusers("text_model.encoder.layers.0.mlp.fc1.weight"));
        assertEquals("text_model.final_layer_norm.bias", ClipTextEncoder.KEYS.toDiffusers("final_layer_norm.bias")); // older files
        assertNull(ClipTextEncoder.KEYS.toDiffusers("text_model.embeddings.position_ids"));
        assertNull(ClipTextEncoder.KEYS.toDiffusers("logit_scale"));
    }

    @Test
    void badIdsAreRejected() {
        Path g = Shared.sdTiny();
        try (SdSource src = SdSource.open(g.resolve("weights"), null)) {
            ClipTextEncoder enc = ClipTextEncoder.load(src, be);
            var vocab = assertThrows(IllegalArgumentException.class, () -> enc.encode(ClipTextEncoder.ids(new int[][]{{49406, 49408}})));
            assertEquals("token id 49408 (row 0) is outside the vocabulary of 49408", vocab.getMessage());
            var length = assertThrows(IllegalArgumentException.class, () -> enc.encode(ClipTextEncoder.ids(new int[][]{new int[78]})));
            assertEquals("token ids have 78 positions, the encoder only 77", length.getMessage());
            var dtype = assertThrows(IllegalArgumentException.class, () -> enc.encode(Tensor.zeros(1, 77)));
            assertEquals("token ids must be i32/i64 (N,L), got f32[1, 77]", dtype.getMessage());
            assertArrayEquals(new long[]{0, 77, 32}, enc.encodeTexts(ClipTokenizer.load(src.tokenizerDir()), List.of()).shape());
        }
    }
}
