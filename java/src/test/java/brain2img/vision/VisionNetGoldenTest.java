package brain2img.vision;

import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.io.FormatException;
import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static brain2img.testing.Assert.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every architecture against torch/torchvision (tools/vision_goldens.py): reduced-width networks built from the
 * real torchvision classes with random weights and BatchNorm statistics; features ≤ 1e-4 relative at every
 * stored node, in one pass and node by node; L and ∂L/∂x ≤ 1e-3.
 */
class VisionNetGoldenTest {
    private final Backend be = new CpuBackend();

    @ParameterizedTest
    @ValueSource(strings = {"alexnet", "vgg19", "vgg19-caffe", "resnet50", "inception_v3", "efficientnet_b1"})
    void featuresMatchTorch(String arch) {
        Map<String, Tensor> ref = Goldens.features(arch);
        try (VisionNet net = VisionNets.open(arch, Goldens.weights(arch), null, be)) {
            assertTrue(net.nodes().containsAll(ref.keySet()), arch + " lacks nodes of the golden: " + ref.keySet());
            Map<String, Tensor> got = net.features(Goldens.x(arch), ref.keySet());
            for (String n : ref.keySet()) assertClose(ref.get(n), be.download(got.get(n)), 1e-4, arch + " " + n);
            // asking for the first node alone stops early and gives the same
            String first = ref.keySet().iterator().next();
            assertClose(ref.get(first), be.download(net.features(Goldens.x(arch), List.of(first)).get(first)), 1e-4, arch + " " + first + " alone");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"alexnet", "vgg19", "vgg19-caffe", "resnet50", "inception_v3", "efficientnet_b1"})
    void lossGradientMatchesTorch(String arch) {
        Map<String, Tensor> g = Goldens.grad(arch);
        Map<String, Tensor> targets = new LinkedHashMap<>();
        Map<String, Double> weights = new LinkedHashMap<>();
        g.forEach((k, v) -> {
            if (k.startsWith("t_")) targets.put(k.substring(2), v);
            if (k.startsWith("w_")) weights.put(k.substring(2), v.getDouble(0));
        });
        try (VisionNet net = VisionNets.open(arch, Goldens.weights(arch), null, be)) {
            VisionNet.LossGradient lg = net.lossGradient(Goldens.x(arch), targets, weights);
            double lRef = g.get("L").getDouble(0);
            assertEquals(lRef, lg.loss(), 1e-3 * Math.abs(lRef), arch + " loss");
            assertClose(g.get("dx"), lg.gradient(), 1e-3, arch + " dL/dx");
        }
    }

    @Test
    void timmVggLayoutGivesTheSameClassifier() {
        Map<String, Tensor> ref = Goldens.features("vgg19");
        try (VisionNet net = VisionNets.open("vgg19", Goldens.dir("vgg19").resolve("weights-timm.safetensors"), null, be)) {
            Map<String, Tensor> got = net.features(Goldens.x("vgg19"), List.of("classifier.0", "classifier.6"));
            assertClose(ref.get("classifier.0"), got.get("classifier.0"), 1e-4, "timm fc6");
            assertClose(ref.get("classifier.6"), got.get("classifier.6"), 1e-4, "timm fc8");
        }
    }

    @Test
    void missingTensorsAreAllNamedButOnlyWhenANodeNeedsThem() throws Exception {
        // a copy of the small VGG without classifier.3 and classifier.6: features up to classifier.0 still work
        Path dir = java.nio.file.Files.createTempDirectory("vgg-partial");
        Path partial = dir.resolve("w.safetensors");
        try (var wf = brain2img.io.WeightFile.open(Goldens.weights("vgg19"))) {
            Map<String, Tensor> kept = new LinkedHashMap<>();
            for (String n : wf.names()) if (!n.startsWith("classifier.3") && !n.startsWith("classifier.6")) kept.put(n, wf.getF32(n));
            brain2img.io.SafeTensors.write(partial, kept, Map.of());
        }
        try (VisionNet net = VisionNets.open("vgg19", partial, null, be)) {
            Map<String, Tensor> ref = Goldens.features("vgg19");
            assertClose(ref.get("classifier.0"), net.features(Goldens.x("vgg19"), List.of("classifier.0")).get("classifier.0"), 1e-4, "partial");
            var e = assertThrows(FormatException.class, () -> net.features(Goldens.x("vgg19"), List.of("classifier.6")));
            for (String k : List.of("classifier.3.weight", "classifier.3.bias", "classifier.6.weight", "classifier.6.bias")) {
                assertTrue(e.getMessage().contains(k), e.getMessage());
            }
        }
    }

    @Test
    void unknownNodesAndArchitecturesAreRefusedWithTheChoices() {
        var e = assertThrows(IllegalArgumentException.class, () -> VisionNets.open("vgg99", Goldens.weights("vgg19"), null, be));
        assertTrue(e.getMessage().contains("vgg19-caffe"), e.getMessage());
        try (VisionNet net = VisionNets.open("alexnet", Goldens.weights("alexnet"), null, be)) {
            var e2 = assertThrows(IllegalArgumentException.class, () -> net.features(Goldens.x("alexnet"), List.of("features.99")));
            assertTrue(e2.getMessage().contains("features.12"), e2.getMessage());
        }
    }

    @Test
    void nodeListsOfTheStandardArchitectures() {
        assertEquals(22, VisionNets.nodes("alexnet").size());
        assertEquals(List.of("features.0", "features.1"), VisionNets.nodes("vgg19").subList(0, 2));
        assertEquals(37 + 2 + 7, VisionNets.nodes("vgg19").size());
        List<String> caffe = new ArrayList<>(VisionNets.nodes("vgg19-caffe"));
        assertTrue(caffe.containsAll(List.of("conv1_1", "conv5_4", "fc6", "fc7", "fc8")));
    }
}
