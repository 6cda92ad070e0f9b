package brain2img.vision;

import brain2img.cuda.CudaBackend;
import brain2img.io.SafeTensors;
import brain2img.tensor.Tensor;
import brain2img.testing.GpuTest;
import org.junit.jupiter.api.Test;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;

import static brain2img.testing.Assert.assertClose;
import static brain2img.testing.Assert.relErr;

/**
 * CLIP's vision tower on the CUDA backend (fp32) against the same float64 torch goldens as {@link ClipVisionTest},
 * both layouts; the strided batched GEMM that picks the class token runs on the device here. Errors are printed
 * with a {@code [gpu]} tag.
 */
@GpuTest
class ClipVisionGpuTest {
    private static Path resource(String name) throws URISyntaxException {
        return Path.of(ClipVisionGpuTest.class.getResource("/brain2img/vision/clip/" + name).toURI());
    }

    @Test
    void everyNodeMatchesTorchOnTheGpu() throws URISyntaxException {
        try (CudaBackend be = new CudaBackend(CudaBackend.Precision.FP32);
             SafeTensors gold = SafeTensors.open(resource("golden.safetensors"))) {
            for (String[] c : new String[][]{{"a-hf", "a"}, {"a-openai.pth", "a"}, {"b-openai.pth", "b"}}) {
                Path config = c[0].equals("a-openai.pth") ? resource("a-hf/config.json") : null;
                try (ClipVision net = ClipVision.open(resource(c[0]), config, be)) {
                    Map<String, Tensor> out = net.features(gold.getF32(c[1] + ".pixel_values"), net.nodes());
                    for (var e : out.entrySet()) {
                        Tensor ref = gold.getF32(c[1] + "." + e.getKey()), got = be.download(e.getValue());
                        System.out.printf("[gpu] clip-vit %s %s rel %.2e%n", c[0], e.getKey(), relErr(got.toFloatArray(), ref.toFloatArray()));
                        assertClose(ref, got, 1e-4, c[0] + " " + e.getKey());
                    }
                }
            }
        }
    }
}
