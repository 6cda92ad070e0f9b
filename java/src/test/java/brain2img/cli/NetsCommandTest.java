package brain2img.cli;

import brain2img.io.Npy;
import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static brain2img.testing.Assert.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code nets features|grad|list} on the small torch-made VGG19 of tools/vision_goldens.py. */
class NetsCommandTest {
    @TempDir
    Path dir;

    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true));
        try {
            int code = cl.execute(args);
            return new Run(code, out.toString(), err.toString());
        } finally {
            System.setOut(old);
        }
    }

    private static Path golden(String name) throws Exception {
        return Path.of(NetsCommandTest.class.getResource("/brain2img/vision/vgg19/" + name).toURI());
    }

    @Test
    void featuresInBatchesAndGradientMatchTorch() throws Exception {
        Path feats = dir.resolve("feats");
        Run r = run("nets", "features", "--arch", "vgg19", "--weights", golden("weights.safetensors").toString(),
                "--images", golden("x.npy").toString(), "--layers", "features.16,classifier.6", "--out", feats.toString(),
                "--batch", "1", "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        Map<String, Tensor> ref = Npy.readNpz(golden("features.npz"));
        assertClose(ref.get("features.16"), Npy.read(feats.resolve("features.16.npy")), 1e-4, "features.16");
        assertClose(ref.get("classifier.6"), Npy.read(feats.resolve("classifier.6.npy")), 1e-4, "classifier.6");

        Map<String, Tensor> g = Npy.readNpz(golden("grad.npz"));
        Path targets = Files.createDirectories(dir.resolve("targets"));
        String[] layers = {"features.2", "features.16", "features.34", "classifier.0", "classifier.6"};
        StringBuilder w = new StringBuilder();
        for (String l : layers) {
            Npy.write(targets.resolve(l + ".npy"), g.get("t_" + l));
            w.append(w.isEmpty() ? "" : ",").append(g.get("w_" + l).getDouble(0));
        }
        Path out = dir.resolve("g.npy");
        r = run("nets", "grad", "--arch", "vgg19", "--weights", golden("weights.safetensors").toString(),
                "--images", golden("x.npy").toString(), "--targets", targets.toString(), "--layers", String.join(",", layers),
                "--layer-weights", w.toString(), "--out", out.toString(), "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        assertClose(g.get("dx"), Npy.read(out), 1e-3, "dL/dx");
        double loss = Double.parseDouble(r.out().strip().split(" ")[1]);
        assertEquals(g.get("L").getDouble(0), loss, 1e-3 * loss);
    }

    @Test
    void listAndUsageErrors() throws Exception {
        Run r = run("nets", "list");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("vgg19-caffe: conv1_1 relu1_1 conv1_2"), r.out());
        assertTrue(r.out().contains("inception_v3: Conv2d_1a_3x3"), r.out());
        r = run("nets", "features", "--arch", "vgg91", "--weights", "w", "--images", "x.npy", "--layers", "a", "--out", "o");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown 'vgg91'"), r.err());
        r = run("nets", "features", "--arch", "vgg19", "--weights", golden("weights.safetensors").toString(),
                "--images", golden("x.npy").toString(), "--layers", "features.99", "--out", dir.toString(), "--device", "cpu");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("unknown node 'features.99'"), r.err());
    }
}
