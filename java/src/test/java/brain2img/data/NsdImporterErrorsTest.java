package brain2img.data;

import brain2img.io.FormatException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A damaged or missing file in an NSD tree: the error names the file and what was expected. */
class NsdImporterErrorsTest {
    @TempDir
    static Path tmp;
    static Path tree;
    static final String BETAS = "nsddata_betas/ppdata/subj01/func1pt8mm/betas_fithrf_GLMdenoise_RR/";

    @BeforeAll
    static void make() throws IOException {
        tree = tmp.resolve("tree");
        Synth.generate(tree, Synth.Options.of(20, 30, 5).withImageSize(8).withSessions(2).withNsdLayout(true));
    }

    @Test
    void truncatedHdf5Betas() throws IOException {
        expect("hdf5", BETAS + "betas_session02.hdf5", f -> truncate(f, 0.5), "betas_session02.hdf5: not a readable HDF5 betas file", List.of(), List.of());
    }

    @Test
    void truncatedNiftiBetas() throws IOException {
        expect("nifti", BETAS + "betas_session01.nii.gz", f -> truncate(f, 0.6), "betas_session01.nii.gz: ", List.of(), List.of());
    }

    @Test
    void corruptExpdesign() throws IOException {
        expect("mat", "nsddata/experiments/nsd/nsd_expdesign.mat", f -> {
            byte[] b = Files.readAllBytes(f);
            for (int i = 150; i < 170; i++) b[i] ^= 0x33;
            Files.write(f, b);
        }, "nsd_expdesign.mat (element at byte 128): corrupt compressed data", List.of(), List.of());
    }

    @Test
    void responsesTsvDisagreesWithDesign() throws IOException {
        expect("tsv", "nsddata/ppdata/subj01/behav/responses.tsv", f -> {
            List<String> lines = new java.util.ArrayList<>(Files.readAllLines(f));
            String[] c = lines.get(3).split("\t");
            c[4] = Integer.toString(Integer.parseInt(c[4]) + 1);
            lines.set(3, String.join("\t", c));
            Files.write(f, lines);
        }, "responses.tsv line 4: 73KID", List.of(), List.of());
    }

    @Test
    void missingBetasAndRoiLabels() throws IOException {
        expect("nobetas", BETAS + "betas_session02.hdf5", Files::delete, "betas_session02.hdf5: missing (nor .nii.gz/.nii)", List.of(), List.of());
        expect("noctab", "nsddata/freesurfer/subj01/label/prf-visualrois.mgz.ctab", Files::delete, "prf-visualrois.mgz.ctab: missing; expected the label table", List.of(), List.of());
    }

    @Test
    void unknownRoiListsTheKnownOnes() throws IOException {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                NsdImporter.run(new NsdImporter.Options(tree, 1, List.of(), List.of("V7"), false), tmp.resolve("out-roi")));
        assertTrue(e.getMessage().contains("unknown ROI 'V7'") && e.getMessage().contains("early") && e.getMessage().contains("V1v"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () ->
                NsdImporter.run(new NsdImporter.Options(tree, 1, List.of(9), List.of(), false), tmp.resolve("out-s")));
        assertTrue(e.getMessage().contains("session 9 is not in responses.tsv"), e.getMessage());
    }

    interface Damage {
        void apply(Path f) throws IOException;
    }

    private static void truncate(Path f, double keep) throws IOException {
        byte[] b = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(b, (int) (b.length * keep)));
    }

    private static void expect(String name, String file, Damage damage, String expected, List<Integer> sessions, List<String> rois) throws IOException {
        Path copy = tmp.resolve("tree-" + name);
        DatasetTest.copy(tree, copy);
        damage.apply(copy.resolve(file));
        Path out = tmp.resolve("out-" + name);
        FormatException e = assertThrows(FormatException.class, () -> NsdImporter.run(new NsdImporter.Options(copy, 1, sessions, rois, false), out));
        assertTrue(e.getMessage().contains(expected) && e.getMessage().startsWith(copy.toString()), "message: " + e.getMessage() + "\nexpected: " + expected);
        assertTrue(!Files.exists(out), "no half-written data set");
    }
}
