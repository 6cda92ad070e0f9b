package brain2img.data;

import brain2img.io.FormatException;
import brain2img.io.Npy;
import brain2img.tensor.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The on-disk format: accessors against independent computations, and one clear error per kind of damage. */
class DatasetTest {
    @TempDir
    static Path tmp;
    static Path good;
    static Dataset d;

    @BeforeAll
    static void make() throws IOException {
        good = tmp.resolve("good");
        Synth.generate(good, Synth.Options.of(20, 30, 3).withImageSize(8).withRepetitions(2, 3));
        d = Dataset.open(good);
    }

    @Test
    void averageIsTheMeanOfEachImagesTrials() {
        for (Split s : Split.values()) {
            Averaged a = d.average(s);
            assertEquals(d.imageIds(s), java.util.Arrays.stream(a.imageIds()).boxed().toList());
            for (int i = 0; i < a.imageIds().length; i++) {
                int id = a.imageIds()[i];
                List<Trial> ts = d.trials().stream().filter(t -> t.imageId() == id).toList();
                assertEquals(s == Split.TEST ? 3 : 2, ts.size());
                for (int v = 0; v < d.voxels(); v++) {
                    double mean = 0;
                    for (Trial t : ts) mean += d.responses().getFloat((long) t.index() * d.voxels() + v) / ts.size();
                    assertEquals(mean, a.responses().getFloat((long) i * d.voxels() + v), 1e-5);
                }
            }
        }
    }

    @Test
    void imageIdsInOrderOfFirstAppearance() {
        List<Integer> want = new ArrayList<>(new LinkedHashSet<>(d.trials(Split.TRAIN).stream().map(Trial::imageId).toList()));
        assertEquals(want, d.imageIds(Split.TRAIN));
        assertEquals(2, d.imageIds(Split.TEST).size());
    }

    @Test
    void accessors() {
        assertArrayEquals(new int[]{3, 8, 8}, d.imageSize());
        Tensor img = d.stimulus(0);
        assertArrayEquals(new long[]{3, 8, 8}, img.shape());
        for (float v : img.toFloatArray()) assertTrue(v >= 0 && v <= 1);
        assertTrue(d.hasCaptions());
        assertEquals(3, d.captions(0).size());
        assertEquals(List.of(), d.captions(12345));
        assertTrue(d.voxelStat("noise_ceiling").isPresent());
        assertFalse(d.voxelStat("nope").isPresent());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.roi("V9"));
        assertTrue(e.getMessage().contains("unknown ROI 'V9'") && e.getMessage().contains("early") && e.getMessage().contains("nsdgeneral"), e.getMessage());
        assertEquals(30, d.roi("nsdgeneral").length);
    }

    @Test
    void writerLeavesNothingBehindOnFailure() throws IOException {
        Path out = tmp.resolve("half");
        try (DatasetWriter w = DatasetWriter.create(out, "x")) {
            w.responses(2, 3);
            w.appendRows(new float[6]);
            // no trials, no stimuli: commit must refuse
            var e = assertThrows(IllegalStateException.class, w::commit);
            assertEquals("0 trials listed, 2 response rows", e.getMessage());
        }
        assertFalse(Files.exists(out));
        try (Stream<Path> s = Files.list(tmp)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".half")), "temporary directory removed");
        }
    }

    // ------------------------------------------------------------------ damage, one kind at a time

    @Test
    void brokenJson() throws IOException {
        damaged("json", dir -> write(dir.resolve("dataset.json"), "{\"format\": \"brain2img-dataset\", "), "dataset.json: not valid JSON");
    }

    @Test
    void wrongVoxelCount() throws IOException {
        damaged("voxels", dir -> replace(dir.resolve("dataset.json"), "\"voxels\" : 30", "\"voxels\" : 31"), "responses.npy: shape [42, 30], expected [42, 31]");
    }

    @Test
    void trialTableBadSplit() throws IOException {
        damaged("split", dir -> replace(dir.resolve("trials.csv"), ",train\n", ",training\n"), "trials.csv line 2: split must be train or test, got 'training'");
    }

    @Test
    void trialTableMissingRow() throws IOException {
        damaged("rows", dir -> {
            List<String> lines = new ArrayList<>(read(dir.resolve("trials.csv")).lines().toList());
            lines.remove(lines.size() - 1);
            write(dir.resolve("trials.csv"), String.join("\n", lines) + "\n");
        }, "trials.csv: 41 trials, but dataset.json and responses.npy have 42");
    }

    @Test
    void trialTableNotANumber() throws IOException {
        damaged("nan-id", dir -> {
            List<String> lines = new ArrayList<>(read(dir.resolve("trials.csv")).lines().toList());
            String[] f = lines.get(3).split(",");
            lines.set(3, f[0] + ",seven," + f[2] + "," + f[3] + "," + f[4]);
            write(dir.resolve("trials.csv"), String.join("\n", lines) + "\n");
        }, "trials.csv line 4: image_id 'seven' is not an integer");
    }

    @Test
    void imageInBothSplits() throws IOException {
        Trial test = d.trials(Split.TEST).get(0);
        damaged("leak", dir -> {
            List<String> lines = new ArrayList<>(read(dir.resolve("trials.csv")).lines().toList());
            Trial train = d.trials(Split.TRAIN).get(0);
            lines.set(1 + train.index(), train.index() + "," + test.imageId() + "," + train.session() + ",0,train");
            write(dir.resolve("trials.csv"), String.join("\n", lines) + "\n");
        }, "is in both train and test trials");
    }

    @Test
    void nanVoxel() throws IOException {
        damaged("nan", dir -> {
            float[] r = d.responses().toFloatArray();
            r[5 * 30 + 17] = Float.NaN;
            try {
                Files.delete(dir.resolve("responses.npy"));
                Npy.write(dir.resolve("responses.npy"), Tensor.of(r, 42, 30));
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, "responses.npy: voxel 17 is NaN in trial 5");
    }

    @Test
    void truncatedResponses() throws IOException {
        damaged("trunc", dir -> {
            try {
                byte[] b = Files.readAllBytes(dir.resolve("responses.npy"));
                Files.write(dir.resolve("responses.npy"), java.util.Arrays.copyOf(b, b.length - 4));
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, "responses.npy: truncated");
    }

    @Test
    void missingStimulus() throws IOException {
        int id = d.imageIds(Split.TRAIN).get(3);
        damaged("stim", dir -> dir.resolve("stimuli/" + id + ".png").toFile().delete(), id + ".png: missing stimulus for image " + id);
    }

    @Test
    void roiOutOfRange() throws IOException {
        damaged("roi", dir -> {
            try {
                Files.delete(dir.resolve("rois/early.npy"));
                Npy.write(dir.resolve("rois/early.npy"), Tensor.ofInts(new int[]{1, 5, 30}, 3));
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, "early.npy: voxel index 30 outside [0, 30)");
    }

    private static void damaged(String name, Consumer<Path> damage, String expected) throws IOException {
        Path dir = tmp.resolve("damaged-" + name);
        copy(good, dir);
        damage.accept(dir);
        FormatException e = assertThrows(FormatException.class, () -> Dataset.open(dir));
        assertTrue(e.getMessage().contains(expected), "message: " + e.getMessage() + "\nexpected to contain: " + expected);
        assertTrue(e.getMessage().startsWith(dir.toString()), "names the file: " + e.getMessage());
    }

    static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path q = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(q);
                else Files.copy(p, q, StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    private static String read(Path f) {
        try {
            return Files.readString(f);
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    private static void write(Path f, String s) {
        try {
            Files.writeString(f, s);
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    private static void replace(Path f, String from, String to) {
        String s = read(f);
        assertTrue(s.contains(from), f + " should contain " + from);
        write(f, s.replaceFirst(java.util.regex.Pattern.quote(from), java.util.regex.Matcher.quoteReplacement(to)));
    }
}
