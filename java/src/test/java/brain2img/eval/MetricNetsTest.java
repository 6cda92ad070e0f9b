package brain2img.eval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetricNetsTest {
    @Test
    void findsEachFamilyByItsDocumentedNameAndNotesEachMissingOnce(@TempDir Path dir) throws Exception {
        Files.write(dir.resolve("alexnet.pth"), new byte[1]);
        Files.write(dir.resolve("alexnet.safetensors"), new byte[1]); // safetensors preferred
        Files.write(dir.resolve("swav_resnet50.pth.tar"), new byte[1]);
        Files.write(dir.resolve("inception_v3_google.pth"), new byte[1]); // not the documented name
        Files.createDirectories(dir.resolve("clip-vit-large-patch14"));
        Files.write(dir.resolve("clip-vit-large-patch14/model.safetensors"), new byte[1]);
        Files.writeString(dir.resolve("clip-vit-large-patch14/config.json"), "{}");

        MetricNets.Discovery d = MetricNets.discover(dir);
        assertEquals(List.of("alexnet", "clip", "swav"), d.found().stream().map(f -> f.family().name()).toList());
        assertEquals(dir.resolve("alexnet.safetensors"), d.found().get(0).weights());
        assertNull(d.found().get(0).config());
        assertEquals(dir.resolve("clip-vit-large-patch14/model.safetensors"), d.found().get(1).weights());
        assertEquals(dir.resolve("clip-vit-large-patch14/config.json"), d.found().get(1).config());
        assertEquals("resnet50", d.found().get(2).family().arch());
        assertEquals(List.of("inception: no inception_v3.* in " + dir, "effnet: no efficientnet_b1.* in " + dir), d.missing());
    }

    @Test
    void theTestNetsFolderHoldsEveryFamily() {
        MetricNets.Discovery d = MetricNets.discover(MetricGoldens.nets());
        assertEquals(MetricNets.FAMILIES.size(), d.found().size());
        assertTrue(d.missing().isEmpty());
    }

    @Test
    void aFolderWithoutWeightsOrAMissingDirIsAnError(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("clip-vit-large-patch14"));
        var e = assertThrows(IllegalArgumentException.class, () -> MetricNets.discover(dir));
        assertTrue(e.getMessage().contains("clip-vit-large-patch14"), e.getMessage());
        var nope = assertThrows(IllegalArgumentException.class, () -> MetricNets.discover(dir.resolve("nope")));
        assertEquals("--nets: not a folder: " + dir.resolve("nope"), nope.getMessage());
    }
}
