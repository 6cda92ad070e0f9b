package brain2img.eval;

import brain2img.io.Json;
import brain2img.io.Npy;
import brain2img.tensor.Tensor;
import com.fasterxml.jackson.databind.JsonNode;

import java.net.URISyntaxException;
import java.nio.file.Path;

/**
 * The outputs of {@code tools/metric_nets_reference.py}: a --nets folder of reduced torchvision networks and a
 * tiny CLIP, 6 ground truths (40×48 RGB), 2 samples of each reconstruction, 4 training pictures, and what
 * MindEye2's and Takagi's code paths compute from them in torch/NumPy/SciPy.
 */
final class MetricGoldens {
    private MetricGoldens() {}

    static Path resource(String name) {
        try {
            return Path.of(MetricGoldens.class.getResource("/brain2img/eval/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("test resource brain2img/eval/" + name + " missing (run tools/metric_nets_reference.py)", e);
        }
    }

    static JsonNode json() {
        return Json.read(resource("metric-goldens.json"));
    }

    static Path nets() {
        return resource("nets");
    }

    /** (n,3,h,w) → n pictures. */
    static Picture[] pictures(String name) {
        Tensor t = Npy.read(resource(name));
        Picture[] out = new Picture[t.dimInt(0)];
        for (int i = 0; i < out.length; i++) out[i] = Picture.of(t.get(i));
        return out;
    }

    /** (n,K,3,h,w) → [n][K] pictures. */
    static Picture[][] samples(String name) {
        Tensor t = Npy.read(resource(name));
        Picture[][] out = new Picture[t.dimInt(0)][t.dimInt(1)];
        for (int i = 0; i < out.length; i++) for (int s = 0; s < out[i].length; s++) out[i][s] = Picture.of(t.get(i).get(s));
        return out;
    }

    static double[] doubles(JsonNode a) {
        double[] d = new double[a.size()];
        for (int i = 0; i < d.length; i++) d[i] = a.get(i).asDouble();
        return d;
    }

    static float[][] matrix(JsonNode a) {
        float[][] m = new float[a.size()][];
        for (int i = 0; i < m.length; i++) {
            m[i] = new float[a.get(i).size()];
            for (int j = 0; j < m[i].length; j++) m[i][j] = (float) a.get(i).get(j).asDouble();
        }
        return m;
    }
}
