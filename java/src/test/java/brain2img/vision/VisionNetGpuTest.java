package brain2img.vision;

import brain2img.cuda.CudaBackend;
import brain2img.tensor.Tensor;
import brain2img.testing.GpuTest;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.LinkedHashMap;
import java.util.Map;

import static brain2img.testing.Assert.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The torch goldens on the CUDA backend (fp32): its own convolutions and GEMMs, and the vision primitives it
 * has no kernels for yet computed through the host fallback, device tensors going back and forth.
 */
@GpuTest
class VisionNetGpuTest {
    @ParameterizedTest
    @ValueSource(strings = {"vgg19-caffe", "efficientnet_b1", "inception_v3"})
    void featuresAndGradientsMatchTorch(String arch) {
        try (CudaBackend gpu = new CudaBackend(CudaBackend.Precision.FP32);
             VisionNet net = VisionNets.open(arch, Goldens.weights(arch), null, gpu)) {
            Map<String, Tensor> ref = Goldens.features(arch);
            Map<String, Tensor> got = net.features(Goldens.x(arch), ref.keySet());
            for (String n : ref.keySet()) assertClose(ref.get(n), gpu.download(got.get(n)), 1e-4, arch + " " + n + " on cuda");
            Map<String, Tensor> g = Goldens.grad(arch);
            Map<String, Tensor> targets = new LinkedHashMap<>();
            Map<String, Double> weights = new LinkedHashMap<>();
            g.forEach((k, v) -> {
                if (k.startsWith("t_")) targets.put(k.substring(2), v);
                if (k.startsWith("w_")) weights.put(k.substring(2), v.getDouble(0));
            });
            VisionNet.LossGradient lg = net.lossGradient(Goldens.x(arch), targets, weights);
            assertEquals(g.get("L").getDouble(0), lg.loss(), 1e-3 * g.get("L").getDouble(0), arch + " loss on cuda");
            assertClose(g.get("dx"), lg.gradient(), 1e-3, arch + " dL/dx on cuda");
        }
    }
}
