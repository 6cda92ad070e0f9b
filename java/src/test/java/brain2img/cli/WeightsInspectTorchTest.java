package brain2img.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `weights inspect` on PyTorch checkpoints: listing, the --dict choice, a damaged file's one-line error. */
class WeightsInspectTorchTest {
    @TempDir
    Path tmp;

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(WeightsInspectTorchTest.class.getResource("/brain2img/io/torch/" + name).toURI());
    }

    @Test
    void listsCheckpointTensorsAndMetadata() throws Exception {
        MainTest.Run r = MainTest.run("weights", "inspect", resource("nested.pth.tar").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("module.conv1.weight") && l.contains("f32") && l.contains("[2, 3, 1, 1]")), r.out());
        assertTrue(r.out().contains("total: 3 tensors, 15 values"), r.out());
        assertTrue(r.out().contains("epoch=3"), r.out());
        MainTest.Run top = MainTest.run("weights", "inspect", "--dict", "", resource("nested_legacy.pth.tar").toString());
        assertEquals(0, top.code(), top.err());
        assertTrue(top.out().lines().anyMatch(l -> l.startsWith("state_dict.module.fc.bias")), top.out());
    }

    @Test
    void aFolderListsSafetensorsAndCheckpointsAlike() throws Exception {
        Files.copy(resource("zip.pth"), tmp.resolve("a.pth"));
        Files.copy(resource("expected.safetensors"), tmp.resolve("b.safetensors"));
        MainTest.Run r = MainTest.run("weights", "inspect", "--summary", tmp.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(2, r.out().lines().filter(l -> l.startsWith("== ")).count(), r.out());
    }

    @Test
    void aHostileCheckpointGivesOneLineNamingFileAndGlobal() throws IOException {
        Path bad = tmp.resolve("evil.pth");
        // legacy-looking pickle whose first object is os.system("ls"): refused before anything runs
        Files.write(bad, new byte[]{(byte) 0x80, 2, 'c', 'o', 's', '\n', 's', 'y', 's', 't', 'e', 'm', '\n',
                'U', 2, 'l', 's', (byte) 0x85, 'R', '.'});
        MainTest.Run r = MainTest.run("weights", "inspect", bad.toString());
        assertEquals(1, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("evil.pth") && r.err().contains("'os.system' is not allowed"), r.err());
    }
}
