package brain2img.backend;

import brain2img.io.Npy;
import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static brain2img.testing.Assert.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link Backend#resize} against torch.nn.functional.interpolate (tools/vision_goldens.py, resize.npz):
 * bilinear and bicubic, antialias off and on, down- and upsampling, 23×17 → 7×5, 50×41, 23×9, 31×17.
 */
class ResizeTorchTest {
    @Test
    void matchesTorchInterpolate() throws Exception {
        Map<String, Tensor> g = Npy.readNpz(Path.of(getClass().getResource("/brain2img/vision/resize.npz").toURI()));
        Backend be = new CpuBackend();
        Tensor x = g.get("x");
        int checked = 0;
        for (Map.Entry<String, Tensor> e : g.entrySet()) {
            if (e.getKey().equals("x")) continue;
            String[] p = e.getKey().split("_");    // mode_aa_HxW
            Backend.Interp mode = Backend.Interp.valueOf(p[0].toUpperCase(java.util.Locale.ROOT));
            boolean aa = p[1].equals("1");
            Tensor ref = e.getValue();
            Tensor got = be.resize(x, ref.dimInt(2), ref.dimInt(3), mode, aa);
            assertClose(ref, got, 1e-6, e.getKey());
            checked++;
        }
        assertEquals(16, checked);
    }
}
