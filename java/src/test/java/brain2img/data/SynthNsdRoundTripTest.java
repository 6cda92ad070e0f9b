package brain2img.data;

import brain2img.tensor.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The synthetic brain written as a data set and as an NSD tree (3 sessions: .nii.gz, .hdf5, .nii.gz) must
 * give identical data sets once the tree is imported: every response bit, trial, stimulus pixel, caption, ROI
 * and statistic. This exercises the whole NSD importer (MAT v5 compressed, TSV, NIfTI, HDF5, ctab, CSV, COCO JSON).
 */
class SynthNsdRoundTripTest {
    @TempDir
    static Path tmp;
    static Dataset plain, imported;
    static final Synth.Options OPTIONS = Synth.Options.of(60, 150, 7).withImageSize(16).withSessions(3).withRepetitions(2, 3);

    @BeforeAll
    static void generate() throws IOException {
        Synth.generate(tmp.resolve("plain"), OPTIONS);
        Synth.generate(tmp.resolve("tree"), OPTIONS.withNsdLayout(true));
        imported = NsdImporter.run(new NsdImporter.Options(tmp.resolve("tree"), 1, List.of(), List.of(), false), tmp.resolve("imported"));
        plain = Dataset.open(tmp.resolve("plain"));
    }

    @Test
    void importedTreeEqualsGeneratedDataSet() {
        assertEquals(plain.trials(), imported.trials());
        assertEquals(plain.voxels(), imported.voxels());
        assertArrayEquals(plain.responses().toFloatArray(), imported.responses().toFloatArray(), 0f, "responses bit for bit");
        assertArrayEquals(plain.imageSize(), imported.imageSize());
        for (Split s : Split.values()) {
            assertEquals(plain.imageIds(s), imported.imageIds(s));
            for (int id : plain.imageIds(s)) {
                assertArrayEquals(plain.stimulus(id).toFloatArray(), imported.stimulus(id).toFloatArray(), 0f, "stimulus " + id);
                assertEquals(plain.captions(id), imported.captions(id), "captions " + id);
            }
        }
        assertEquals(plain.roiNames(), imported.roiNames());
        for (String r : plain.roiNames()) assertArrayEquals(plain.roi(r), imported.roi(r), r);
        for (String s : List.of("ncsnr", "noise_ceiling")) {
            assertArrayEquals(plain.voxelStat(s).orElseThrow().toFloatArray(), imported.voxelStat(s).orElseThrow().toFloatArray(), 0f, s);
        }
        assertTrue(imported.metadata().path("provenance").path("synthetic").asBoolean(), "tree marked synthetic");
        // the importer keeps the mask and affine of the ROI volumes: the simulated brain's own voxel positions
        assertEquals(plain.geometry().orElseThrow(), imported.geometry().orElseThrow(), "volume geometry");
    }

    @Test
    void designIsWhatTheOptionsAsk() {
        // 6 test images × 3 + 54 train × 2 = 126 trials over 3 sessions; every voxel finite and on the 1/300 grid
        assertEquals(6, plain.imageIds(Split.TEST).size());
        assertEquals(54, plain.imageIds(Split.TRAIN).size());
        assertEquals(126, plain.trials().size());
        assertEquals(List.of(1, 2, 3), plain.trials().stream().map(Trial::session).distinct().toList());
        float[] r = plain.responses().toFloatArray();
        for (float v : r) assertEquals(Math.round(v * 300) / 300f, v, 0f);
        for (Trial t : plain.trials(Split.TEST)) assertTrue(t.repetition() < 3);
        assertTrue(plain.captions(0).get(0).endsWith("background"), plain.captions(0).get(0));
    }

    @Test
    void sessionsAndRoisSelectRowsAndColumns() throws IOException {
        Dataset sub = NsdImporter.run(new NsdImporter.Options(tmp.resolve("tree"), 1, List.of(2, 3), List.of("early"), false), tmp.resolve("sub"));
        int[] early = plain.roi("early");
        List<Trial> want = plain.trials().stream().filter(t -> t.session() >= 2).toList();
        assertEquals(want.size(), sub.trials().size());
        assertEquals(early.length, sub.voxels());
        Tensor pr = plain.responses(), sr = sub.responses();
        for (int i = 0; i < want.size(); i++) {
            Trial p = want.get(i), s = sub.trials().get(i);
            assertEquals(p.imageId(), s.imageId());
            for (int j = 0; j < early.length; j++) {
                assertEquals(pr.getFloat((long) p.index() * plain.voxels() + early[j]), sr.getFloat((long) i * sub.voxels() + j), 0f);
            }
        }
        assertArrayEquals(java.util.stream.IntStream.range(0, early.length).toArray(), sub.roi("early"));
    }

    @Test
    void zscoreSessionsMatchesNaiveReference() throws IOException {
        Dataset z = NsdImporter.run(new NsdImporter.Options(tmp.resolve("tree"), 1, List.of(), List.of(), true), tmp.resolve("z"));
        int v = plain.voxels();
        float[] raw = plain.responses().toFloatArray(), got = z.responses().toFloatArray();
        for (int s = 1; s <= 3; s++) {
            final int session = s;
            List<Trial> ts = plain.trials().stream().filter(t -> t.session() == session).toList();
            for (int j = 0; j < v; j++) {
                double mean = 0, sq = 0;
                for (Trial t : ts) mean += raw[t.index() * v + j];
                mean /= ts.size();
                for (Trial t : ts) sq += Math.pow(raw[t.index() * v + j] - mean, 2);
                double sd = Math.sqrt(sq / ts.size());
                for (Trial t : ts) assertEquals((raw[t.index() * v + j] - mean) / sd, got[t.index() * v + j], 1e-4);
            }
        }
    }
}
