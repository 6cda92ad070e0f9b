package brain2img.dir;

import brain2img.backend.CpuBackend;
import brain2img.io.Npy;
import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;

import static brain2img.testing.Assert.relErr;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The deepsim generator (reduced widths, the lab's layer names) against torch: output and autograd's ∂L/∂z. */
class DeepSimGeneratorTest {

    static Path resource(String name) throws Exception {
        Path tmp = Files.createTempFile("dir", "-" + name);
        try (var in = DeepSimGeneratorTest.class.getResourceAsStream(name)) {
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        }
        tmp.toFile().deleteOnExit();
        return tmp;
    }

    @Test
    void forwardAndLatentGradientMatchTorch() throws Exception {
        Map<String, Tensor> ref = Npy.readNpz(resource("deepsim_tiny.npz"));
        Path weights = resource("deepsim_tiny.safetensors");
        try (DeepSimGenerator g = new DeepSimGenerator(weights, new CpuBackend())) {
            DeepSimGenerator.Pass p = g.forward(ref.get("z").toFloatArray(), 64);
            double e = relErr(p.image(), ref.get("image").toFloatArray());
            assertTrue(e < 1e-5, "image relative error " + e);
            double eg = relErr(p.latentGradient(ref.get("grad_image").toFloatArray()), ref.get("grad_z").toFloatArray());
            assertTrue(eg < 1e-4, "dL/dz relative error " + eg);
        }
    }
}
