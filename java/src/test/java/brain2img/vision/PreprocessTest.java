package brain2img.vision;

import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.io.Npy;
import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static brain2img.testing.Assert.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** torchvision's Resize(int) and CenterCrop (resize.npz from tools/vision_goldens.py), and the normalisations. */
class PreprocessTest {
    private final Backend be = new CpuBackend();

    @Test
    void matchesTorchvisionResizeAndCenterCrop() throws Exception {
        Map<String, Tensor> g = Npy.readNpz(Path.of(getClass().getResource("/brain2img/vision/resize.npz").toURI()));
        Tensor x = g.get("x");    // (2,3,23,17)
        for (int aa = 0; aa < 2; aa++) {
            for (int size : new int[]{13, 40}) {
                assertClose(g.get("tvresize_" + aa + "_" + size), Preprocess.resizeShorter(be, x, size, aa == 1), 3e-6, "Resize(" + size + ") aa=" + aa);
            }
        }
        for (int[] hw : new int[][]{{11, 9}, {30, 20}, {12, 10}}) {
            String k = "tvcrop_" + hw[0] + "x" + hw[1];
            assertClose(g.get(k), Preprocess.centerCrop(be, x, hw[0], hw[1]), 0, k);
        }
    }

    @Test
    void normalisationToImageNetAndCaffeSpaces() {
        Tensor x = Tensor.of(new float[]{0.5f, 1f, 0f}, 1, 3, 1, 1);    // R, G, B
        Tensor tv = Preprocess.normalize(be, x, new VisionNet.InputSpace(224, false, CnnNet.IMAGENET_MEAN, CnnNet.IMAGENET_STD));
        assertArrayEquals(new float[]{(0.5f - 0.485f) / 0.229f, (1f - 0.456f) / 0.224f, (0f - 0.406f) / 0.225f}, tv.toFloatArray(), 1e-6f);
        Tensor caffe = Preprocess.normalize(be, x, new VisionNet.InputSpace(224, true, Vgg19.CAFFE_MEAN_BGR, new float[]{1, 1, 1}));
        // B, G, R order, 0–255, minus the BGR mean pixel
        assertArrayEquals(new float[]{0f - 104.00699f, 255f - 116.66877f, 127.5f - 122.67891f}, caffe.toFloatArray(), 1e-3f);
        assertEquals(2, Preprocess.offset(17, 12));    // round(2.5) = 2, half to even as Python
        assertEquals(4, Preprocess.offset(17, 10));    // round(3.5) = 4
    }
}
