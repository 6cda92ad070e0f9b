package brain2img.encode;

import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.data.Dataset;
import brain2img.data.Split;
import brain2img.data.Synth;
import brain2img.eval.Picture;
import brain2img.io.Npy;
import brain2img.tensor.Tensor;
import brain2img.vision.VisionNet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The net:ARCH:NODE spaces through the {@link VisionNetLoader} seam: a stand-in network whose node "input" is its
 * input, so the features must be the stimuli resized to the network's size and normalised as its InputSpace says
 * (RGB mean/std, or Caffe's BGR 0–255 minus the mean).
 */
class EncodeNetSpaceTest {
    /** Returns its input as node "input"; records which weights file it was opened with. */
    record InputNet(String arch, VisionNet.InputSpace inputSpace) implements VisionNet {
        public List<String> nodes() { return List.of("input"); }

        public Map<String, Tensor> features(Tensor x, Collection<String> nodes) { return Map.of("input", x); }

        public LossGradient lossGradient(Tensor x, Map<String, Tensor> targets, Map<String, Double> weights) {
            throw new UnsupportedOperationException();
        }
    }

    @Test
    void netSpacesAreTheNormalisedNetworkInputs(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("synth"), nets = tmp.resolve("nets");
        Synth.generate(data, Synth.Options.of(60, 80, 3).withImageSize(32));
        Files.createDirectories(nets);
        Files.write(nets.resolve("rgbnet.pth"), new byte[]{0});
        Files.write(nets.resolve("caffenet.safetensors"), new byte[]{0});
        float[] mean = {0.4f, 0.5f, 0.6f}, std = {0.2f, 0.25f, 0.3f}, bgrMean = {100f, 110f, 120f};
        List<Path> opened = new ArrayList<>();
        VisionNetLoader loader = (arch, weights, config, be) -> {
            opened.add(weights);
            return arch.equals("rgbnet") ? new InputNet(arch, new VisionNet.InputSpace(8, false, mean, std))
                    : new InputNet(arch, new VisionNet.InputSpace(8, true, bgrMean, new float[]{1, 1, 1}));
        };
        Dataset ds = Dataset.open(data);
        EncodeRun.Options o = new EncodeRun.Options(EncodeRun.parseSpaces(List.of("net:rgbnet:input", "net:caffenet:input")), List.of(),
                new FeatureSettings(null, nets, 64, 4, 5, 42, 32), EncodingModel.Options.defaults(), 0, 42, false);
        Path run = tmp.resolve("run");
        try (Backend be = new CpuBackend()) {
            EncodeRun.run(ds, run, o, be, loader, s -> {});
        }
        assertEquals(List.of(nets.resolve("rgbnet.pth"), nets.resolve("caffenet.safetensors")), opened);
        int id = ds.imageIds(Split.TEST).get(1);
        double[] img = Picture.of(ds.stimulus(id)).resize(8, 8).data(); // (3,8,8) RGB in [0,1]
        float[] rgb = Npy.read(run.resolve("features/net_rgbnet_input/test.npy")).slice(1, 2).toFloatArray();
        float[] bgr = Npy.read(run.resolve("features/net_caffenet_input/test.npy")).slice(1, 2).toFloatArray();
        assertEquals(192, rgb.length);
        for (int c = 0; c < 3; c++) for (int p = 0; p < 64; p++) {
            assertEquals((img[c * 64 + p] - mean[c]) / std[c], rgb[c * 64 + p], 1e-5, "rgb channel " + c);
            assertEquals(255 * img[(2 - c) * 64 + p] - bgrMean[c], bgr[c * 64 + p], 1e-3, "bgr channel " + c);
        }
    }
}
