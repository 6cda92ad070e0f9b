package brain2img.vision;

import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.io.FormatException;
import brain2img.io.SafeTensors;
import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static brain2img.testing.Assert.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * CLIP's vision tower against {@code tools/make_clip_vision_golden.py}: a float64 torch model written after OpenAI's
 * {@code VisionTransformer}, with random f16-exact weights saved in Hugging Face and OpenAI layouts.
 */
class ClipVisionTest {
    private static final double TOL = 1e-4;

    @TempDir
    Path tmp;

    private final Backend be = new CpuBackend();

    private static Path resource(String name) {
        try {
            return Path.of(ClipVisionTest.class.getResource("/brain2img/vision/clip/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new AssertionError("test resource " + name + " missing (run tools/make_clip_vision_golden.py)", e);
        }
    }

    /** Every node of model X against the golden outputs for its two images. */
    private void assertMatchesGolden(ClipVision net, String model, int layers) {
        try (SafeTensors gold = SafeTensors.open(resource("golden.safetensors"))) {
            List<String> nodes = new ArrayList<>();
            for (int i = 0; i <= layers; i++) nodes.add("hidden_states." + i);
            nodes.add("image_embeds");
            assertEquals(nodes, net.nodes());
            Map<String, Tensor> out = net.features(gold.getF32(model + ".pixel_values"), nodes.reversed());
            assertEquals(nodes.reversed(), List.copyOf(out.keySet()), "in request order");
            for (String n : nodes) assertClose(gold.getF32(model + "." + n), be.download(out.get(n)), TOL, model + " " + n);
        }
    }

    @Test
    void huggingFaceLayoutWithConfigMatchesTorch() {
        try (ClipVision net = ClipVision.open(resource("a-hf"), null, be)) { // the folder: its model and config.json
            assertEquals(new ClipVision.Config(64, 2, 4, 8, 32, 128, 32, 1e-5f, Backend.Unary.QUICK_GELU), net.config());
            assertMatchesGolden(net, "a", 2);
        }
    }

    @Test
    void openAiLayoutFromAPyTorchCheckpointMatchesTorch() {
        try (ClipVision net = ClipVision.open(resource("a-openai.pth"), resource("a-hf/config.json"), be)) {
            assertEquals(4, net.config().heads());
            assertMatchesGolden(net, "a", 2);
        }
    }

    @Test
    void aBareVisionConfigAskingForExactGeluIsFollowed() {
        try (ClipVision net = ClipVision.open(resource("a-hf/model.safetensors"), resource("a-gelu-config.json"), be)) {
            assertEquals(Backend.Unary.GELU, net.config().activation());
            assertMatchesGolden(net, "ag", 2);
        }
    }

    @Test
    void withoutAConfigEverySizeComesFromTheShapes() {
        // legacy-format .pth, width 64 → 1 head by OpenAI's width/64; image 16 from 1 + (16/8)² positions
        try (ClipVision net = ClipVision.open(resource("b-openai.pth"), null, be)) {
            assertEquals(new ClipVision.Config(64, 1, 1, 8, 16, 256, 16, 1e-5f, Backend.Unary.QUICK_GELU), net.config());
            assertMatchesGolden(net, "b", 1);
        }
    }

    @Test
    void inputSpaceIsClipsAndShallowNodesStopEarly() {
        try (ClipVision net = ClipVision.open(resource("a-hf/model.safetensors"), resource("a-hf/config.json"), be);
             SafeTensors gold = SafeTensors.open(resource("golden.safetensors"))) {
            VisionNet.InputSpace in = net.inputSpace();
            assertEquals(32, in.size());
            assertFalse(in.bgr255());
            assertArrayEquals(new float[]{0.48145466f, 0.4578275f, 0.40821073f}, in.mean());
            assertArrayEquals(new float[]{0.26862954f, 0.26130258f, 0.27577711f}, in.std());
            Tensor x = gold.getF32("a.pixel_values");
            Map<String, Tensor> one = net.features(x, List.of("hidden_states.1"));
            assertEquals(List.of("hidden_states.1"), List.copyOf(one.keySet()));
            assertArrayEquals(new long[]{2, 17, 64}, one.get("hidden_states.1").shape());
            assertClose(gold.getF32("a.image_embeds"), net.imageEmbeds(x), TOL, "imageEmbeds");
            // one image alone gives its own row of the batch result
            Tensor first = net.imageEmbeds(x.slice(0, 1));
            assertClose(gold.getF32("a.image_embeds").slice(0, 1), first, TOL, "batch of one");
            IllegalArgumentException node = assertThrows(IllegalArgumentException.class, () -> net.features(x, List.of("hidden_states.3")));
            assertTrue(node.getMessage().startsWith("clip-vit has no node 'hidden_states.3'"), node.getMessage());
            IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
                    () -> net.features(Tensor.zeros(1, 3, 16, 16), List.of("image_embeds")));
            assertTrue(size.getMessage().contains("(N,3,32,32)"), size.getMessage());
            UnsupportedOperationException grad = assertThrows(UnsupportedOperationException.class,
                    () -> net.lossGradient(x, Map.of(), Map.of()));
            assertTrue(grad.getMessage().contains("clip-vit"), grad.getMessage());
        }
    }

    @Test
    void aConfigThatContradictsTheWeightsIsRefused() throws IOException {
        Path config = tmp.resolve("config.json");
        Files.writeString(config, Files.readString(resource("a-hf/config.json")).replace("\"patch_size\": 8", "\"patch_size\": 16"));
        FormatException e = assertThrows(FormatException.class, () -> ClipVision.open(resource("a-openai.pth"), config, be));
        assertTrue(e.getMessage().contains("patch_size") && e.getMessage().contains("(8)"), e.getMessage());
        FormatException none = assertThrows(FormatException.class,
                () -> ClipVision.open(Path.of(TorchCheckpointResource.path("zip.pth")), null, be));
        assertTrue(none.getMessage().contains("no CLIP vision tower"), none.getMessage());
    }

    /** A PyTorch file that is not CLIP, from the io.torch test resources. */
    private static final class TorchCheckpointResource {
        static String path(String name) {
            try {
                return Path.of(ClipVisionTest.class.getResource("/brain2img/io/torch/" + name).toURI()).toString();
            } catch (URISyntaxException e) {
                throw new AssertionError(e);
            }
        }
    }
}
