package brain2img.dir;

import brain2img.backend.CpuBackend;
import brain2img.io.Npy;
import brain2img.tensor.Tensor;
import brain2img.vision.VisionNet;
import brain2img.vision.VisionNets;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static brain2img.dir.DeepSimGeneratorTest.resource;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reconstruction from the true features (all 19 layers) of three held-out 64² images with a reduced random VGG19
 * (torchvision layout), against what the same schedules reach in torch/scipy ({@code tools/dir_torch_reference.py}).
 */
class ReconstructTinyVggTest {
    static final List<String> NODES = List.of("features.0", "features.2", "features.5", "features.7", "features.10", "features.12",
            "features.14", "features.16", "features.19", "features.21", "features.23", "features.25", "features.28", "features.30",
            "features.32", "features.34", "classifier.0", "classifier.3", "classifier.6");
    static final float[] MEAN = {0.485f, 0.456f, 0.406f}, STD = {0.229f, 0.224f, 0.225f};

    @Test
    void gradientDescentAndLbfgsRecoverTheImagesAsTorchDoes() throws Exception {
        Map<String, Tensor> ref = Npy.readNpz(resource("vgg_tiny.npz"));
        float[] imgs = ref.get("images").toFloatArray();
        int n = 3, s = 64, plane = s * s;
        float[] x = imgs.clone();
        for (int i = 0; i < x.length; i++) x[i] = (x[i] - MEAN[(i / plane) % 3]) / STD[(i / plane) % 3];
        try (VisionNet net = VisionNets.open("vgg19", resource("vgg_tiny.safetensors"), null, new CpuBackend())) {
            Map<String, Tensor> targets = new LinkedHashMap<>(net.features(Tensor.of(x, n, 3, s, s), NODES));
            targets.replaceAll((k, v) -> Tensor.of(v.toFloatArray(), v.shape()));
            FeatureLoss loss = new FeatureLoss(net, targets);
            for (String method : List.of("gd", "lbfgs")) {
                Reconstructor r = new Reconstructor(net, loss, new Reconstructor.Options(
                        method.equals("gd") ? Reconstructor.Method.GD : Reconstructor.Method.LBFGS, 200, 3, 0, 0, 0), m -> {});
                float[] out = r.run(s, null).toFloatArray();
                double[] torch = ref.get("pixcorr_" + method).toDoubleArray();
                double ours = 0, theirs = 0;
                for (int i = 0; i < n; i++) {
                    float[] rec = new float[3 * plane], gt = new float[3 * plane];
                    for (int j = 0; j < rec.length; j++) {
                        float v = out[i * 3 * plane + j] * STD[j / plane] + MEAN[j / plane];
                        rec[j] = Math.max(0, Math.min(1, v));
                        gt[j] = imgs[i * 3 * plane + j];
                    }
                    ours += pixCorr(rec, gt) / n;
                    theirs += torch[i] / n;
                }
                System.out.printf("%s: PixCorr %.4f (torch %.4f, start image 0)%n", method, ours, theirs);
                assertTrue(ours >= 0.95 * theirs, method + ": PixCorr " + ours + " < 0.95 × torch's " + theirs);
                assertTrue(ours > 0.9, method + ": PixCorr " + ours);
            }
        }
    }

    /** Pearson r over all values (0 for a constant image, such as the mean-grey start). */
    static double pixCorr(float[] a, float[] b) {
        double ma = 0, mb = 0;
        for (int i = 0; i < a.length; i++) { ma += a[i]; mb += b[i]; }
        ma /= a.length;
        mb /= b.length;
        double sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.length; i++) {
            double da = a[i] - ma, db = b[i] - mb;
            sab += da * db;
            saa += da * da;
            sbb += db * db;
        }
        return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
    }
}
