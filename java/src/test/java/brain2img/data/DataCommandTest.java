package brain2img.data;

import brain2img.cli.Main;
import brain2img.io.Json;
import brain2img.testing.Shared;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code brain2img data} commands as a user calls them: exit codes, summaries, --json fields. */
class DataCommandTest {
    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            picocli.CommandLine cl = Main.commandLine();
            cl.setErr(new java.io.PrintWriter(System.err, true));
            int code = cl.execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    private static JsonNode infoJson(Path dir) {
        Run r = run("data", "info", dir.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        return Json.parse(r.out(), "data info --json");
    }

    @Test
    void synthThenImportNsdThenInfoAndAverage() {
        Path tree = tmp.resolve("tree"), ds = tmp.resolve("ds"), avg = tmp.resolve("avg");
        Run s = run("data", "synth", "--out", tree.toString(), "--images", "30", "--voxels", "40", "--seed", "2", "--snr", "2", "--nsd-layout", "--image-size", "8");
        assertEquals(0, s.code(), s.err());
        Run i = run("data", "import-nsd", "--nsd", tree.toString(), "--subject", "1", "--out", ds.toString(), "--sessions", "1-2", "--rois", "early,ventral", "--zscore-sessions");
        assertEquals(0, i.code(), i.err());
        assertTrue(i.out().contains("SYNTHETIC"), i.out());
        JsonNode j = infoJson(ds);
        // 3 test images × 3 + 27 train × 1
        assertEquals(27, j.get("train_trials").asInt());
        assertEquals(9, j.get("test_trials").asInt());
        assertEquals(40, j.get("voxels").asInt());
        assertEquals(30, j.get("images").asInt());
        assertEquals(3, j.get("repetitions_test").get("3").asInt());
        Run a = run("data", "average", ds.toString(), "--out", avg.toString());
        assertEquals(0, a.code(), a.err());
        JsonNode ja = infoJson(avg);
        assertEquals(27, ja.get("train_trials").asInt());
        assertEquals(3, ja.get("test_trials").asInt());
        Dataset src = Dataset.open(ds), av = Dataset.open(avg);
        Averaged want = src.average(Split.TEST);
        float[] got = av.responses().toFloatArray();
        float[] tail = java.util.Arrays.copyOfRange(got, 27 * 40, 30 * 40);
        assertArrayEquals(want.responses().toFloatArray(), tail, 0f);
        assertEquals(src.captions(want.imageIds()[0]), av.captions(want.imageIds()[0]));
    }

    @Test
    void importMatWithDetectedNamesAndInfoText() throws IOException {
        // variables named differently from the defaults are detected; responses given voxels × trials are transposed
        Path mat = tmp.resolve("toy.mat");
        int trn = 6, tst = 2, vox = 5, px = 16;
        MatFile.write(mat, true,
                new MatFile.Var("X_train", new int[]{vox, trn}, "double", ramp(vox * trn, 0.5)),
                new MatFile.Var("X_test", new int[]{vox, tst}, "double", ramp(vox * tst, -0.25)),
                new MatFile.Var("stimTrn", new int[]{trn, px}, "uint8", ramp(trn * px, 1)),
                new MatFile.Var("stimTest", new int[]{tst, px}, "uint8", ramp(tst * px, 1)));
        Path out = tmp.resolve("toy");
        Run r = run("data", "import-mat", mat.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("train 6, test 2") && r.out().contains("1×4×4 grey"), r.out());
        Dataset d = Dataset.open(out);
        assertEquals(5, d.voxels());
        // trial 3, voxel 2 of X_train (5×6, column-major) is element 2 + 5*3
        assertEquals((float) ((2 + 5 * 3) * 0.5), d.responses().getFloat(3 * 5 + 2), 0f);
        JsonNode j = infoJson(out);
        assertEquals(6, j.get("train_trials").asInt());
        assertEquals(2, j.get("test_trials").asInt());
        assertEquals(8, j.get("images").asInt());

        Run bad = run("data", "import-mat", mat.toString(), "--out", tmp.resolve("bad").toString(), "--x-train", "nope");
        assertEquals(1, bad.code());
        assertTrue(bad.err().contains("no variable 'nope'") && bad.err().contains("X_train"), bad.err());
        Run size = run("data", "import-mat", mat.toString(), "--out", tmp.resolve("bad2").toString(), "--image-size", "3x5");
        assertEquals(1, size.code());
        assertTrue(size.err().contains("not 1 or 3 × 3×5"), size.err());
    }

    @Test
    void infoOnDigitsAndOnADamagedDataSet() throws IOException {
        Path mat = Shared.require("data/vangerven-digits/digit69_28x28.mat");
        Path out = tmp.resolve("digits");
        assertEquals(0, run("data", "import-mat", mat.toString(), "--out", out.toString()).code());
        JsonNode j = infoJson(out);
        assertEquals(90, j.get("train_trials").asInt());
        assertEquals(10, j.get("test_trials").asInt());
        assertEquals(3092, j.get("voxels").asInt());
        assertEquals(100, j.get("images").asInt());
        Files.writeString(out.resolve("trials.csv"), "trial,image_id\n");
        Run r = run("data", "info", out.toString());
        assertEquals(1, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("trials.csv: first line must be"), r.err());
        Run exists = run("data", "import-mat", mat.toString(), "--out", out.toString());
        assertEquals(1, exists.code());
        assertTrue(exists.err().contains("already exists"), exists.err());
    }

    private static double[] ramp(int n, double step) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = step == 1 ? (i * 37) % 256 : i * step;
        return v;
    }
}
