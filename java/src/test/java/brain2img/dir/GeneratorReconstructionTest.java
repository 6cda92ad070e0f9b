package brain2img.dir;

import brain2img.backend.CpuBackend;
import brain2img.tensor.Tensor;
import brain2img.vision.VisionNet;
import brain2img.vision.VisionNets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static brain2img.dir.DeepSimGeneratorTest.resource;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The generator prior end to end: the reduced VGG19 under Caffe names (at 224² its pool5 is 32×7×7, what its fc6
 * reads) and the reduced deepsim generator; targets are the features of G(z*) for a known latent, so the loss
 * can reach 0, and the lab's latent schedule must bring it well down from z₀ = 0.
 */
class GeneratorReconstructionTest {
    @TempDir
    Path tmp;

    @Test
    void latentOptimisationLowersTheFeatureLoss() throws Exception {
        Path w = TinyVggCaffe.write(tmp.resolve("vgg_tiny_caffe.safetensors"));
        CpuBackend be = new CpuBackend();
        try (VisionNet net = VisionNets.open("vgg19-caffe", w, null, be);
             DeepSimGenerator g = new DeepSimGenerator(resource("deepsim_tiny.safetensors"), be)) {
            float[] zStar = new float[g.latent()], ub = new float[g.latent()];
            for (int i = 0; i < zStar.length; i++) {
                zStar[i] = (float) (0.5 + 0.5 * Math.sin(i));
                ub[i] = 1.5f;
            }
            Tensor img = Tensor.of(g.forward(zStar, 224).image(), 1, 3, 224, 224);
            List<String> layers = List.of("conv1_1", "conv3_1", "conv5_1", "fc7");
            Map<String, Tensor> targets = new LinkedHashMap<>();
            net.features(img, layers).forEach((k, v) -> targets.put(k, Tensor.of(v.toFloatArray(), v.shape())));
            FeatureLoss loss = new FeatureLoss(net, targets);
            double start = loss.evaluate(0, Tensor.of(g.forward(new float[g.latent()], 224).image(), 1, 3, 224, 224)).loss();
            Tensor rec = new Reconstructor(net, loss, new Reconstructor.Options(Reconstructor.Method.GD, 30, 1, 0, 0, 0), m -> {}, g, ub).run(224, null);
            double end = loss.evaluate(0, rec).loss();
            System.out.printf("generator prior: loss %.4g at z0 = 0 → %.4g after 30 iterations%n", start, end);
            assertTrue(end < 0.5 * start, "loss " + start + " → " + end);
        }
    }
}
