package brain2img.pipeline;

import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.data.MatImporter;
import brain2img.data.Synth;
import brain2img.eval.NetMetric;
import brain2img.eval.NetSuite;
import brain2img.io.Json;
import brain2img.testing.Shared;
import brain2img.vision.VisionNets;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs with {@code --nets}: the reduced test networks of tools/metric_nets_reference.py give the whole published
 * table for the reconstructions and every null, with CIs and p-values; a missing network is noted once and its
 * metrics are absent.
 */
class PipelineNetsTest {
    static Path testNets() throws URISyntaxException {
        return Path.of(PipelineNetsTest.class.getResource("/brain2img/eval/nets").toURI());
    }

    static NetSuite.Loader loader(Backend be) {
        return (arch, weights, config) -> VisionNets.open(arch, weights, config, be);
    }

    @Test
    void digitsGetTheFullTableForTheReconstructionsAndEveryNull(@TempDir Path tmp) throws Exception {
        Path mat = Shared.require("data/vangerven-digits/digit69_28x28.mat");
        Path data = tmp.resolve("digits");
        MatImporter.run(new MatImporter.Options(mat, MatImporter.X_TRAIN, MatImporter.X_TEST, MatImporter.STIM_TRAIN, MatImporter.STIM_TEST,
                null, true), data);
        Path run = tmp.resolve("run");
        List<String> log = new ArrayList<>();
        try (Backend be = new CpuBackend()) {
            new Pipeline(RunConfig.defaults(data, run).withNets(testNets()), be, log::add, loader(be)).through(Pipeline.Stage.REPORT);
        }
        JsonNode m = Json.read(run.resolve("metrics.json"));
        for (NetMetric metric : NetMetric.ALL) {
            JsonNode k = m.get(Pipeline.KIND).get(metric.key());
            assertTrue(k != null && k.has("ci_low") && k.has("ci_high"), metric.key() + " in " + m.get(Pipeline.KIND).fieldNames());
            assertTrue(k.get("ci_low").asDouble() <= k.get("mean").asDouble() && k.get("mean").asDouble() <= k.get("ci_high").asDouble(), metric.key());
            for (String nl : Pipeline.NULLS) {
                assertTrue(m.get("nulls").get(nl).has(metric.key()), nl + " lacks " + metric.key());
                if (!nl.equals(Pipeline.CEILING)) assertTrue(k.get("p_value").has(nl), metric.key() + " has no p-value against " + nl);
            }
            assertTrue(m.get(Pipeline.KIND).has("memorised_" + metric.key()), "memorised_" + metric.key());
            if (metric.scoring() != NetMetric.Scoring.TWO_WAY_TAKAGI) assertTrue(m.get("optimistic_best_of_k").get(Pipeline.KIND).has(metric.key()));
        }
        // the ceiling is the ground truth itself: identification is perfect and the distance zero in every network
        JsonNode ceiling = m.get("nulls").get(Pipeline.CEILING);
        for (String two : List.of("alexnet2", "alexnet5", "inception", "clip")) assertEquals(1.0, ceiling.get(two).get("mean").asDouble(), 1e-12, two);
        for (String d : List.of("effnet", "swav")) assertEquals(0.0, ceiling.get(d).get("mean").asDouble(), 1e-6, d);
        // the training mean is the same picture for every image: no identity in any space
        assertEquals(0.5, m.get("nulls").get("train_mean").get("clip").get("mean").asDouble(), 1e-12);
        JsonNode nets = m.get("settings").get("metric_networks");
        assertEquals(5, nets.size());
        assertTrue(nets.get("clip").asText().startsWith("clip-vit sha256:"), nets.toString());
        String html = Files.readString(run.resolve("report.html"));
        assertTrue(html.contains("The field's metric table") && html.contains("published, NSD, 4-subject mean"));
        assertTrue(html.contains("Takagi &amp; Nishimoto's definitions"));
        // ground-truth and training features were cached once per network and preprocessing
        try (Stream<Path> s = Files.list(run.resolve("features/nets"))) {
            assertEquals(2 * NetMetric.ALL.size(), s.filter(p -> p.toString().endsWith(".npy")).count(), "one per (network, node, preprocessing) × {test, train}");
        }
        System.out.println("digits with test nets: " + String.join(" | ", log.stream().filter(l -> l.startsWith("evaluate:")).toList()));
    }

    @Test
    void aMissingNetworkIsNotedOnceAndItsMetricsAreAbsent(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("synth"), nets = tmp.resolve("nets");
        Synth.generate(data, Synth.Options.of(60, 300, 7).withImageSize(16).withSnr(3));
        Files.createDirectories(nets);
        for (String f : List.of("alexnet.safetensors", "swav_resnet50.safetensors")) Files.copy(testNets().resolve(f), nets.resolve(f));
        List<String> log = new ArrayList<>();
        Path run = tmp.resolve("run");
        try (Backend be = new CpuBackend()) {
            new Pipeline(RunConfig.defaults(data, run).withNets(nets), be, log::add, loader(be)).through(Pipeline.Stage.EVALUATE);
        }
        JsonNode m = Json.read(run.resolve("metrics.json")).get(Pipeline.KIND);
        for (String present : List.of("alexnet2", "alexnet5", "swav", "takagi_alexnet2", "takagi_alexnet5")) assertTrue(m.has(present), present);
        for (String absent : List.of("inception", "clip", "effnet", "takagi_inception", "memorised_effnet")) assertFalse(m.has(absent), absent);
        long effnetNotes = log.stream().filter(l -> l.contains("effnet: no efficientnet_b1.* in " + nets)).count();
        assertEquals(1, effnetNotes, String.join("\n", log));
    }
}
