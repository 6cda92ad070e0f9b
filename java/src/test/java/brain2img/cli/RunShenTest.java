package brain2img.cli;

import brain2img.data.MatImporter;
import brain2img.data.Synth;
import brain2img.dir.TinyVggCaffe;
import brain2img.io.Json;
import brain2img.io.Npy;
import brain2img.tensor.Tensor;
import brain2img.testing.Shared;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static brain2img.cli.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code run --method shen} end to end with the reduced random VGG19 (torchvision layout) at 32²: its pictures mean
 * nothing, so the checks are of the pipeline — every kind and null reconstructed, scored and reported, resumable —
 * and of invariants an optimiser that matches features must satisfy.
 */
class RunShenTest {
    static final List<String> NULLS = List.of("shuffled", "permuted_fit", "train_mean", "nearest_train", "ceiling");
    static final String LAYERS = "features.0,features.5,classifier.6";
    static final int SIDE = 32;

    @TempDir
    Path tmp;

    @Test
    void synthBrainBesideMethodOneWithEveryNull() throws Exception {
        Path data = tmp.resolve("synth"), out = tmp.resolve("run");
        Synth.generate(data, Synth.Options.of(60, 150, 5).withImageSize(SIDE).withSnr(3)); // 54 training, 6 test images
        Path cfg = config();
        MainTest.Run m1 = run("run", "--data", data.toString(), "--out", out.toString(), "--config", cfg.toString());
        assertEquals(0, m1.code(), m1.err());

        MainTest.Run r = run(shen(data, out, cfg));
        assertEquals(0, r.code(), r.err());
        int n = checkRun(out.resolve("shen"), 6);
        assertTrue(r.out().contains("render: X_dir test images 0..5"), r.out());
        assertTrue(r.out().contains("report: with method 1 (pixels)"), r.out());
        assertTrue(r.out().contains("wrote " + out.resolve("shen/metrics.json") + " and " + out.resolve("shen/report.html")), r.out());

        // side by side: both methods' reconstructions and metric rows, each labelled by its method
        String html = Files.readString(out.resolve("shen/report.html"));
        for (String s : List.of("shen: X_dir", "shen: null: shuffled", "takagi: pixels", "takagi: null: shuffled", "Metrics: takagi: pixels")) {
            assertTrue(html.contains(s), "report.html lacks " + s);
        }
        assertTrue(Files.isRegularFile(out.resolve("metrics.json")), "method 1's metrics.json is left as it was");
        assertEquals("shen", Json.read(out.resolve("run.json")).path("method").asText());

        // resumable: a second run finds every stage up to date; a lost unit is rendered again, and only it
        MainTest.Run again = run(shen(data, out, cfg));
        assertEquals(0, again.code(), again.err());
        for (String st : List.of("features", "fit", "decode", "render", "evaluate", "report")) assertTrue(again.out().contains(st + ": up to date"), again.out());
        float[] before = Npy.read(out.resolve("shen/recon/train_mean.npy")).toFloatArray();
        Path units;
        try (var s = Files.list(out.resolve("shen/units"))) {
            units = s.findFirst().orElseThrow();
        }
        Files.delete(units.resolve("X_dir/00000-00006.npy")); // X_dir's one unit (6 test images)
        Files.delete(out.resolve("shen/stamps/render.json"));
        MainTest.Run resumed = run("render", "--out", out.toString());
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains("render: X_dir test images 0..5"), resumed.out());
        assertFalse(resumed.out().contains("render: shuffled test images"), "finished units are not rendered again: " + resumed.out());
        assertArrayEquals(before, Npy.read(out.resolve("shen/recon/train_mean.npy")).toFloatArray());
        assertEquals(n, Npy.read(out.resolve("shen/recon/X_dir.npy")).dimInt(0));
    }

    @Test
    void vanGervenDigits() throws Exception {
        Path mat = Shared.require("data/vangerven-digits/digit69_28x28.mat");
        Path data = tmp.resolve("digits"), out = tmp.resolve("run");
        MatImporter.run(new MatImporter.Options(mat, MatImporter.X_TRAIN, MatImporter.X_TEST, MatImporter.STIM_TRAIN, MatImporter.STIM_TEST,
                null, true), data);
        List<String> args = new java.util.ArrayList<>(List.of(shen(data, out, config())));
        args.addAll(List.of("--decoder", "ridgecv")); // the dual-form decoder, whose permuted-fit null predicts from deranged training targets
        MainTest.Run r = run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        checkRun(out.resolve("shen"), 10);
        assertFalse(r.out().contains("report: with method 1"), "no method 1 in this run folder");
    }

    @Test
    void generatorAddsXDirDgnAndItsOwnNullsFromTheSameDecodedFeatures() throws Exception {
        Path data = tmp.resolve("synth"), out = tmp.resolve("run");
        Synth.generate(data, Synth.Options.of(30, 100, 2).withImageSize(SIDE)); // 27 training, 3 test images
        Path g = tmp.resolve("deepsim_tiny.safetensors");
        Files.copy(getClass().getResourceAsStream("/brain2img/dir/deepsim_tiny.safetensors"), g);
        // Caffe names at the network's own 224² (its fc6 reads pool5 flattened); fc7 bounds the generator's latent
        MainTest.Run r = run("run", "--method", "shen", "--data", data.toString(), "--out", out.toString(), "--config", config().toString(),
                "--arch", "vgg19-caffe", "--weights", TinyVggCaffe.write(tmp.resolve("vgg_caffe.safetensors")).toString(), "--layers", "conv1_1,conv3_1,fc7",
                "--generator", g.toString(), "--iterations", "3");
        assertEquals(0, r.code(), r.err());
        Tensor dgn = Npy.read(out.resolve("shen/recon/X_dir_dgn.npy")), dir = Npy.read(out.resolve("shen/recon/X_dir.npy"));
        assertArrayEquals(new long[]{3, 1, 3, 224, 224}, dgn.shape());
        assertFalse(Arrays.equals(dgn.toFloatArray(), dir.toFloatArray()), "the generator's pictures are its own");
        // every null also rendered through the generator, as <null>_dgn, with X_dir_dgn's settings
        int[] ids = Npy.read(out.resolve("shen/features/test_ids.npy")).toIntArray();
        for (String nl : NULLS) {
            Tensor t = Npy.read(out.resolve("shen/recon/" + nl + "_dgn.npy"));
            assertArrayEquals(new long[]{3, 1, 3, 224, 224}, t.shape(), nl + "_dgn");
            for (int id : ids) assertTrue(Files.isRegularFile(out.resolve("shen/recon/" + nl + "_dgn/" + id + ".png")), nl + "_dgn " + id);
        }
        // one train-mean target and a deterministic latent optimiser: identical pictures, and the generator's, not the pixel optimiser's
        float[] tmDgn = Npy.read(out.resolve("shen/recon/train_mean_dgn.npy")).toFloatArray(), tm = Npy.read(out.resolve("shen/recon/train_mean.npy")).toFloatArray();
        int d = 3 * 224 * 224;
        for (int i = 1; i < 3; i++) assertArrayEquals(Arrays.copyOfRange(tmDgn, 0, d), Arrays.copyOfRange(tmDgn, i * d, (i + 1) * d), "train_mean_dgn image " + i);
        assertFalse(Arrays.equals(tmDgn, tm), "train_mean_dgn is rendered by the generator, not copied from the pixel optimiser's null");

        // each renderer's kind tested only against its own nulls, and every null's CIs finite
        JsonNode m = Json.read(out.resolve("shen/metrics.json"));
        List<String> tested = List.of("shuffled", "permuted_fit", "train_mean", "nearest_train");
        for (String metric : List.of("pixcorr", "ssim", "twoway_pixel")) {
            assertEquals(tested, names(m.path("X_dir").path(metric).path("p_value")), "X_dir " + metric);
            assertEquals(tested.stream().map(nl -> nl + "_dgn").toList(), names(m.path("X_dir_dgn").path(metric).path("p_value")), "X_dir_dgn " + metric);
            for (String nl : NULLS) for (String e : List.of(nl, nl + "_dgn")) {
                JsonNode s = m.path("nulls").path(e).path(metric);
                assertTrue(Double.isFinite(s.path("ci_low").asDouble(Double.NaN)) && Double.isFinite(s.path("ci_high").asDouble(Double.NaN)), e + " " + metric + ": " + s);
            }
        }
        // the evaluate line names each kind with its own mean and its own renderer's shuffled null
        for (String kind : List.of("X_dir", "X_dir_dgn")) {
            String mean = String.format(Locale.ROOT, "%.3f", m.path(kind).path("pixcorr").path("mean").asDouble());
            assertTrue(r.out().contains("evaluate: " + kind + " PixCorr " + mean + " ["), kind + ": " + r.out());
        }
        String shuffledDgn = String.format(Locale.ROOT, "%.3f", m.path("nulls").path("shuffled_dgn").path("twoway_pixel").path("mean").asDouble());
        assertTrue(r.out().contains("; shuffled_dgn two-way " + shuffledDgn), r.out());
        String html = Files.readString(out.resolve("shen/report.html"));
        String dgnTable = html.substring(html.indexOf("<h2>Metrics: X_dir_dgn"), html.indexOf("<h2>Per-image scores"));
        assertTrue(dgnTable.contains("<th>null: shuffled_dgn</th>") && !dgnTable.contains("<th>null: shuffled</th>"), dgnTable);
        String grid = html.substring(html.indexOf("<h2>Reconstructions"), html.indexOf("<h2>", html.indexOf("<h2>Reconstructions") + 1));
        for (String nl : NULLS) assertTrue(grid.contains("<th>null: " + nl + "_dgn</th>"), "the grid shows the generator's " + nl);
    }

    private static List<String> names(JsonNode object) {
        List<String> n = new java.util.ArrayList<>();
        object.fieldNames().forEachRemaining(n::add);
        return n;
    }

    @Test
    void badInputFailsWithOneLineNamingTheOption() throws Exception {
        Path data = tmp.resolve("synth");
        Synth.generate(data, Synth.Options.of(20, 40, 1).withImageSize(SIDE));
        MainTest.Run r = run("run", "--method", "shen", "--data", data.toString(), "--out", tmp.resolve("run").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--weights W (the VGG19 weights) is required for --method shen"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        r = run("run", "--method", "shen", "--data", data.toString(), "--out", tmp.resolve("run").toString(), "--weights", weights().toString(),
                "--optimizer", "adam");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("optimizer must be gd or lbfgs, got 'adam'"), r.err());
        r = run("run", "--method", "dir", "--data", data.toString(), "--out", tmp.resolve("run").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("method must be takagi or shen, got 'dir'"), r.err());
    }

    /**
     * Checks one shen run folder: recon/&lt;kind&gt;.npy and PNGs for X_dir and every null, metrics.json with finite CIs
     * and p-values against the four tested nulls, and the invariants. Returns the number of test images.
     */
    private static int checkRun(Path shen, int testImages) throws Exception {
        int[] ids = Npy.read(shen.resolve("features/test_ids.npy")).toIntArray();
        assertEquals(testImages, ids.length);
        Map<String, float[]> recon = new java.util.LinkedHashMap<>();
        for (String k : concat("X_dir", NULLS)) {
            Tensor t = Npy.read(shen.resolve("recon/" + k + ".npy"));
            assertArrayEquals(new long[]{testImages, 1, 3, SIDE, SIDE}, t.shape(), k);
            recon.put(k, t.toFloatArray());
            for (float v : recon.get(k)) assertTrue(v >= 0 && v <= 1, k + ": RGB value " + v + " outside [0,1]");
            for (int id : ids) assertTrue(Files.isRegularFile(shen.resolve("recon/" + k + "/" + id + ".png")), k + " " + id);
        }
        JsonNode m = Json.read(shen.resolve("metrics.json"));
        for (String entry : concat("X_dir", NULLS.stream().map(x -> "nulls." + x).toList())) {
            JsonNode e = entry.startsWith("nulls.") ? m.path("nulls").path(entry.substring(6)) : m.path(entry);
            for (String metric : List.of("pixcorr", "ssim", "twoway_pixel")) {
                JsonNode s = e.path(metric);
                double lo = s.path("ci_low").asDouble(Double.NaN), mean = s.path("mean").asDouble(Double.NaN), hi = s.path("ci_high").asDouble(Double.NaN);
                assertTrue(Double.isFinite(lo) && Double.isFinite(hi) && lo <= mean && mean <= hi, entry + " " + metric + ": " + s);
            }
        }
        JsonNode p = m.path("X_dir").path("pixcorr").path("p_value");
        for (String nl : List.of("shuffled", "permuted_fit", "train_mean", "nearest_train")) assertTrue(p.path(nl).isNumber(), "p-value against " + nl + ": " + p);
        assertTrue(p.path("ceiling").isMissingNode(), "the ceiling is a reference, not tested");

        // the train-mean null has one target for every image and the optimiser is deterministic: identical pictures
        int d = 3 * SIDE * SIDE;
        float[] tm = recon.get("train_mean");
        for (int i = 1; i < testImages; i++) assertArrayEquals(Arrays.copyOfRange(tm, 0, d), Arrays.copyOfRange(tm, i * d, (i + 1) * d), "train_mean image " + i);
        // decoded features differ from the nulls', so must their reconstructions
        for (String nl : List.of("shuffled", "permuted_fit", "train_mean")) assertFalse(Arrays.equals(recon.get("X_dir"), recon.get(nl)), "X_dir equals " + nl);
        // from the images' own features the optimiser moves towards the images: the ceiling beats the mean-grey start
        double ceiling = m.path("nulls").path("ceiling").path("pixcorr").path("mean").asDouble();
        System.out.printf(java.util.Locale.ROOT, "%s: PixCorr X_dir %.3f, ceiling %.3f, shuffled %.3f, train_mean %.3f; two-way X_dir %.3f%n", shen,
                m.path("X_dir").path("pixcorr").path("mean").asDouble(), ceiling, m.path("nulls").path("shuffled").path("pixcorr").path("mean").asDouble(),
                m.path("nulls").path("train_mean").path("pixcorr").path("mean").asDouble(), m.path("X_dir").path("twoway_pixel").path("mean").asDouble());
        assertTrue(ceiling > 0.3, "ceiling PixCorr " + ceiling + " (the constant start image has 0)");
        return testImages;
    }

    /** Few bootstrap resamples and permutations (speed), 20 voxels per unit (the data sets have a few hundred). */
    private Path config() throws Exception {
        Path cfg = tmp.resolve("config.json");
        Json.write(cfg, Map.of("bootstrap", 200, "permutations", 200, "dir_voxels", 20));
        return cfg;
    }

    private String[] shen(Path data, Path out, Path cfg) throws Exception {
        return new String[]{"run", "--method", "shen", "--data", data.toString(), "--out", out.toString(), "--config", cfg.toString(), "--arch", "vgg19",
                "--weights", weights().toString(), "--layers", LAYERS, "--optimizer", "lbfgs", "--iterations", "10", "--dir-size", String.valueOf(SIDE)};
    }

    private Path weights() throws Exception {
        Path w = tmp.resolve("vgg_tiny.safetensors");
        if (!Files.exists(w)) Files.copy(getClass().getResourceAsStream("/brain2img/dir/vgg_tiny.safetensors"), w, StandardCopyOption.REPLACE_EXISTING);
        return w;
    }

    private static List<String> concat(String first, List<String> rest) {
        List<String> all = new java.util.ArrayList<>(List.of(first));
        all.addAll(rest);
        return all;
    }
}
