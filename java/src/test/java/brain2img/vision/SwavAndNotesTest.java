package brain2img.vision;

import brain2img.backend.CpuBackend;
import brain2img.io.FormatException;
import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;

import static brain2img.testing.Assert.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A SwAV-layout checkpoint (module. prefix, projection head and prototypes, no fc) loads into resnet50. */
class SwavAndNotesTest {
    @Test
    void swavCheckpointGivesTheSameFeaturesUpToAvgpool() {
        ByteArrayOutputStream notes = new ByteArrayOutputStream();
        var be = new CpuBackend();
        try (VisionNet net = VisionNets.open("resnet50", Goldens.dir("resnet50").resolve("weights-swav.safetensors"), null, be,
                new PrintStream(notes, true))) {
            String note = notes.toString().strip();
            assertEquals(1, note.lines().count(), note);
            assertTrue(note.contains("2 projection_head/prototypes tensors ignored"), note);
            Map<String, Tensor> ref = Goldens.features("resnet50");
            Map<String, Tensor> got = net.features(Goldens.x("resnet50"), List.of("layer4", "avgpool", "flatten"));
            for (String n : got.keySet()) assertClose(ref.get(n), got.get(n), 1e-4, "swav " + n);
            var e = assertThrows(FormatException.class, () -> net.features(Goldens.x("resnet50"), List.of("fc")));
            assertTrue(e.getMessage().contains("missing 'module.fc.weight'") && e.getMessage().contains("'module.fc.bias'"), e.getMessage());
        }
    }

    @Test
    void misShapedTensorsAreNamedWithBothShapes() throws Exception {
        var dir = java.nio.file.Files.createTempDirectory("alex-bad");
        var bad = dir.resolve("w.safetensors");
        try (var wf = brain2img.io.WeightFile.open(Goldens.weights("alexnet"))) {
            Map<String, Tensor> all = new java.util.LinkedHashMap<>();
            for (String n : wf.names()) all.put(n, wf.getF32(n));
            all.put("features.3.bias", Tensor.zeros(5));
            all.remove("features.6.weight");
            brain2img.io.SafeTensors.write(bad, all, Map.of());
        }
        try (VisionNet net = VisionNets.open("alexnet", bad, null, new CpuBackend())) {
            assertEquals(Goldens.features("alexnet").get("features.2").dim(1),
                    net.features(Goldens.x("alexnet"), List.of("features.2")).get("features.2").dim(1));
            var e = assertThrows(FormatException.class, () -> net.features(Goldens.x("alexnet"), List.of("features.11")));
            assertTrue(e.getMessage().contains("'features.3.bias' has shape [5], expected [24]"), e.getMessage());
            assertTrue(e.getMessage().contains("missing 'features.6.weight'"), e.getMessage());
        }
    }
}
