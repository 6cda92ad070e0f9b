package brain2img.cli;

import brain2img.io.Json;
import brain2img.io.Npy;
import brain2img.tensor.Tensor;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import static brain2img.cli.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** dir fit → decode → reconstruct on the synthetic brain with a reduced random VGG19 (its pictures mean nothing). */
class DirCommandTest {
    @TempDir
    Path tmp;

    @Test
    void fitDecodeAndReconstructEndToEnd() throws Exception {
        Path data = tmp.resolve("data"), runDir = tmp.resolve("run"), w = tmp.resolve("vgg_tiny.safetensors");
        Files.copy(getClass().getResourceAsStream("/brain2img/dir/vgg_tiny.safetensors"), w, StandardCopyOption.REPLACE_EXISTING);
        assertEquals(0, run("data", "synth", "--out", data.toString(), "--images", "30", "--voxels", "120", "--seed", "3", "--image-size", "32").code());
        for (String decoder : new String[]{"top-voxels", "ridgecv"}) {
            Path r = runDir.resolve(decoder);
            MainTest.Run fit = run("dir", "fit", "--data", data.toString(), "--out", r.toString(), "--arch", "vgg19", "--weights", w.toString(),
                    "--layers", "features.0,features.5,classifier.6", "--decoder", decoder, "--voxels", "20", "--alphas", "1,10,100", "--folds", "3");
            assertEquals(0, fit.code(), fit.err());
            MainTest.Run dec = run("dir", "decode", "--out", r.toString());
            assertEquals(0, dec.code(), dec.err());
            JsonNode meta = Json.read(r.resolve("dir.json"));
            Tensor test = Npy.read(r.resolve("features/test/features.5.npy"));
            Tensor decoded = Npy.read(r.resolve("decoded/features.5.npy"));
            assertArrayEquals(test.shape(), decoded.shape(), "decoded features have the true features' shape");
            // the rescaling's closed form: each image's deviation from the training mean has SD σ0 (ddof 1)
            float[] mean = Npy.read(r.resolve("models/features.5.train_mean.npy")).toFloatArray();
            double sigma0 = meta.path("sigma0").path("features.5").asDouble();
            for (int i = 0; i < decoded.dim(0); i++) {
                float[] f = decoded.get(i).toFloatArray();
                double m = 0, ss = 0;
                for (int j = 0; j < f.length; j++) m += f[j] - mean[j];
                m /= f.length;
                for (int j = 0; j < f.length; j++) ss += (f[j] - mean[j] - m) * (f[j] - mean[j] - m);
                assertEquals(sigma0, Math.sqrt(ss / (f.length - 1)), 1e-3 * sigma0, decoder + " image " + i);
            }
        }
        Path out = tmp.resolve("recon.npy"), png = tmp.resolve("png");
        MainTest.Run rec = run("dir", "reconstruct", "--features", runDir.resolve("top-voxels/decoded").toString(), "--arch", "vgg19",
                "--weights", w.toString(), "--optimizer", "lbfgs", "--iterations", "3", "--batch", "2", "--out", out.toString(), "--png", png.toString());
        assertEquals(0, rec.code(), rec.err());
        Tensor x = Npy.read(out);
        int n = Npy.read(runDir.resolve("top-voxels/decoded/features.0.npy")).dimInt(0);
        assertArrayEquals(new long[]{n, 3, 224, 224}, x.shape());
        float[] v = x.toFloatArray(), mean = {0.485f, 0.456f, 0.406f}, std = {0.229f, 0.224f, 0.225f};
        for (int i = 0; i < v.length; i++) { // inside the pixel bounds: RGB in [0,1] after torchvision's normalisation
            int c = (i / (224 * 224)) % 3;
            float lo = -mean[c] / std[c], hi = (1 - mean[c]) / std[c];
            assertTrue(Float.isFinite(v[i]) && v[i] >= lo - 1e-4 && v[i] <= hi + 1e-4, "value " + v[i] + " in channel " + c);
        }
        assertEquals(n, Files.list(png).count());
        assertTrue(!Files.exists(tmp.resolve(".recon.npy.parts")), "resume parts removed after success");
    }
}
