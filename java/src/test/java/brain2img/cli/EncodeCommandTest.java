package brain2img.cli;

import brain2img.data.Synth;
import brain2img.io.Npy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code brain2img encode} and {@code bench encode}: outputs, report, and the one-line errors with their exit codes. */
class EncodeCommandTest {
    @TempDir
    static Path tmp;
    static Path data;

    @BeforeAll
    static void synth() throws Exception {
        data = tmp.resolve("synth");
        Synth.generate(data, Synth.Options.of(120, 150, 4).withImageSize(32));
    }

    @Test
    void pixelsSpaceWritesMapsNiftiCsvAndReport() throws Exception {
        Path run = tmp.resolve("run");
        MainTest.Run r = MainTest.run("encode", "--data", data.toString(), "--out", run.toString(), "--spaces", "pixels", "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("pixels") && r.out().contains("voxels significant"), r.out());
        assertArrayEquals(new long[]{150, 5}, Npy.read(run.resolve("maps/pixels.npy")).shape());
        assertTrue(Files.isRegularFile(run.resolve("nifti/pixels.nii.gz")));
        assertTrue(Files.readString(run.resolve("roi_summary.csv")).contains("early,pixels,"));
        String html = Files.readString(run.resolve("report.html"));
        assertTrue(html.contains("data:image/png;base64,"), "slice montage inlined");
        assertTrue(html.contains("Winning space per voxel"));
        assertTrue(Files.readString(run.resolve("encode.json")).contains("\"map_columns\""));
    }

    @Test
    void badSpacesAndMissingPiecesAreOneLineErrors() {
        MainTest.Run bad = MainTest.run("encode", "--data", data.toString(), "--out", tmp.resolve("x").toString(), "--spaces", "pixels,foo");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("unknown feature space 'foo'"), bad.err());
        MainTest.Run noWeights = MainTest.run("encode", "--data", data.toString(), "--out", tmp.resolve("y").toString(), "--spaces", "z");
        assertEquals(2, noWeights.code());
        assertTrue(noWeights.err().contains("--weights SD is required"), noWeights.err());
        MainTest.Run net = MainTest.run("encode", "--data", data.toString(), "--out", tmp.resolve("z").toString(), "--spaces", "net:alexnet:features.4");
        assertEquals(1, net.code());
        assertTrue(net.err().contains("net:alexnet: spaces need --nets DIR"), net.err());
        MainTest.Run strength = MainTest.run("encode", "--data", data.toString(), "--out", tmp.resolve("w").toString(), "--spaces", "zc@1.5");
        assertEquals(2, strength.code());
        assertTrue(strength.err().contains("strength must be in (0, 1]"), strength.err());
    }

    @Test
    void benchEncodePrintsTimeAndFlops() {
        MainTest.Run r = MainTest.run("bench", "encode", "--n", "200", "--test", "20", "--voxels", "40", "--p", "30", "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("200 training images × 3 = 600 trials"), r.out());
        assertTrue(r.out().matches("(?s).*encode fit\\+predict: [0-9.]+ s wall, [0-9.]+ s process CPU, [0-9.]+ TFLOP.*"), r.out());
    }
}
