package brain2img.serve;

import brain2img.api.Reconstructor;
import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.data.Averaged;
import brain2img.data.Dataset;
import brain2img.data.Split;
import brain2img.data.Synth;
import brain2img.io.Json;
import brain2img.io.Npy;
import brain2img.pipeline.Pipeline;
import brain2img.pipeline.RunConfig;
import brain2img.tensor.Tensor;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The stream against the offline pipeline on a synthetic scan: same pictures bit for bit (from .npy and NIfTI), drops, bad volumes, HTTP. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ServeTest {
    @TempDir
    static Path tmp;
    static Path data, run;
    static Reconstructor rec;
    static Averaged test;

    @BeforeAll
    static void fitOffline() throws Exception {
        data = tmp.resolve("synth");
        Synth.generate(data, Synth.Options.of(160, 300, 11).withImageSize(12).withSnr(3));
        run = tmp.resolve("run");
        try (Backend be = new CpuBackend()) {
            new Pipeline(RunConfig.defaults(data, run), be, s -> {}).through(Pipeline.Stage.RENDER);
        }
        rec = Reconstructor.open(run, Reconstructor.Options.defaults());
        test = Dataset.open(data).average(Split.TEST);
    }

    @AfterAll
    static void close() {
        rec.close();
    }

    static Serve.Options replay(Path out, Policy policy, double tr) {
        return new Serve.Options(null, data, tr, 1, 0, null, InetAddress.getLoopbackAddress(), policy, OnlineSettings.none(), out);
    }

    static byte[] offlinePng(int imageId) throws Exception {
        return Files.readAllBytes(run.resolve("recon/pixels/" + imageId + ".png"));
    }

    @Test
    void replayUnderPolicyAllWritesEveryVolumeInOrderEqualToTheOfflineRender() throws Exception {
        Path out = tmp.resolve("replay-all");
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        Serve.Summary s = new Serve().run(rec, replay(out, Policy.ALL, 0.001), log::add);
        int n = test.imageIds().length;
        assertEquals(new Serve.Summary(n, n, 0, 0, 0), s, String.join("\n", log));
        for (int i = 0; i < n; i++) {
            assertArrayEquals(offlinePng(test.imageIds()[i]), Files.readAllBytes(out.resolve(i + ".png")), "volume " + i);
            JsonNode j = Json.read(out.resolve(i + ".json"));
            assertEquals(i, j.get("volume_index").asInt());
            assertEquals(test.imageIds()[i], j.get("image_id").asInt());
            assertTrue(j.get("completion_epoch_ms").asLong() >= j.get("arrival_epoch_ms").asLong());
            for (String stage : List.of("read", "queue", "preprocess", "decode", "render", "write", "end_to_end")) {
                assertTrue(j.get("latency_ms").get(stage).asDouble() >= 0, stage);
            }
        }
        // the decoded values themselves, not only their 8-bit rendering, equal the offline decode stage's
        Tensor decoded = Npy.read(run.resolve("decoded/pixels.npy"));
        for (int i = 0; i < n; i++) {
            float[] img = rec.reconstruct(test.responses().get(i).toFloatArray()).image().toFloatArray();
            float[] off = decoded.get(i).toFloatArray();
            for (int j = 0; j < off.length; j++) assertEquals(2 * Math.max(0f, Math.min(1f, off[j])) - 1, img[j], 0f, "volume " + i + " value " + j);
        }
    }

    @Test
    void policyLatestKeepsUpWithASlowRendererAndCountsTheDrops() throws Exception {
        Path out = tmp.resolve("replay-latest");
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        VolumeRenderer slow = v -> {
            try {
                Thread.sleep(40);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return rec.reconstruct(v);
        };
        Serve.Summary s = new Serve().run(slow, rec, replay(out, Policy.LATEST, 0.004), log::add);
        int n = test.imageIds().length;
        assertEquals(n, s.arrived());
        assertTrue(s.dropped() > n / 3, "dropped " + s.dropped() + " of " + n);
        assertEquals(n, s.written() + s.dropped());
        assertEquals(s.dropped(), log.stream().filter(l -> l.contains("dropped volume")).count());
        // what was written is in arrival order and ends with the newest volume
        int last = -1, files = 0;
        for (int i = 0; i < n; i++) {
            if (!Files.exists(out.resolve(i + ".json"))) continue;
            files++;
            assertTrue(i > last);
            last = i;
            assertArrayEquals(offlinePng(test.imageIds()[i]), Files.readAllBytes(out.resolve(i + ".png")));
        }
        assertEquals(s.written(), files);
        assertEquals(n - 1, last);
    }

    @Test
    void watchedFolderSkipsTruncatedAndWrongShapeVolumesAndGoesOn() throws Exception {
        Path in = Files.createDirectories(tmp.resolve("watch-in")), out = tmp.resolve("watch-out");
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        Serve serve = new Serve();
        Serve.Options o = new Serve.Options(in, null, 1, 1, 5, null, InetAddress.getLoopbackAddress(), Policy.ALL, OnlineSettings.none(), out);
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                serve.run(rec, o, log::add);
            } catch (Exception e) {
                log.add("run failed: " + e);
            }
        });
        byte[] good0 = npy(test.responses().get(0).copy()), good3 = npy(test.responses().get(3).copy());
        renameIn(in, "vol000.npy", good0);
        renameIn(in, "vol001.npy", java.util.Arrays.copyOf(good0, good0.length - 40)); // truncated
        renameIn(in, "vol002.npy", npy(Tensor.of(new float[rec.voxels() - 1], rec.voxels() - 1)));
        renameIn(in, "vol003.npy", good3);
        // a volume in the subject's space: the data set's voxels placed in its grid, NIfTI-1 as a scanner export writes it
        brain2img.data.VolumeGeometry g = rec.dataset().geometry().orElseThrow();
        Path nii = in.resolveSibling("vol004.nii");
        float[] grid = new float[g.gridSize()], values = test.responses().get(1).toFloatArray();
        int[] at = g.voxelIndex();
        for (int j = 0; j < at.length; j++) grid[at[j]] = values[j];
        brain2img.data.Nifti.write(nii, g.dims(), brain2img.data.Nifti.FLOAT32, grid, 1f, 0f);
        Files.move(nii, in.resolve("vol004.nii"), StandardCopyOption.ATOMIC_MOVE);
        t.join(60_000);
        assertFalse(t.isAlive(), "watch did not stop after 5 files");
        assertArrayEquals(offlinePng(test.imageIds()[1]), Files.readAllBytes(out.resolve("4.png")));
        assertArrayEquals(offlinePng(test.imageIds()[0]), Files.readAllBytes(out.resolve("0.png")));
        assertArrayEquals(offlinePng(test.imageIds()[3]), Files.readAllBytes(out.resolve("3.png")));
        assertFalse(Files.exists(out.resolve("1.png")) || Files.exists(out.resolve("2.png")));
        String all = String.join("\n", log);
        assertTrue(all.contains("skipped vol001.npy") && all.contains("truncated"), all);
        assertTrue(all.contains("skipped vol002.npy") && all.contains("shape f32[" + (rec.voxels() - 1) + "]"), all);
        try (var s = Files.list(out)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".part")), "no half-written file left");
        }
    }

    @Test
    void httpEndpointAnswersOnLoopbackAndRefusesWrongShapes() throws Exception {
        Path in = Files.createDirectories(tmp.resolve("http-in")), out = tmp.resolve("http-out");
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        Serve serve = new Serve();
        Serve.Options o = new Serve.Options(in, null, 1, 1, 0, 0, InetAddress.getLoopbackAddress(), Policy.ALL, OnlineSettings.none(), out);
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                serve.run(rec, o, log::add);
            } catch (Exception e) {
                log.add("run failed: " + e);
            }
        });
        try {
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (serve.httpPort() < 0 && System.nanoTime() < deadline) Thread.sleep(10);
            assertTrue(serve.httpPort() > 0, () -> {
                synchronized (log) { // the server thread may still be appending
                    return String.join("\n", log);
                }
            });
            URI uri = URI.create("http://127.0.0.1:" + serve.httpPort() + "/reconstruct");
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            HttpResponse<byte[]> ok = client.send(post(uri, npy(test.responses().get(2).copy())), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, ok.statusCode());
            assertEquals("image/png", ok.headers().firstValue("Content-Type").orElseThrow());
            assertArrayEquals(offlinePng(test.imageIds()[2]), ok.body());
            assertTrue(ok.headers().firstValue("X-Brain2img-Latency-Ms").orElseThrow().contains("decode"));

            HttpResponse<String> bad = client.send(post(uri, npy(Tensor.of(new float[6], 2, 3))), HttpResponse.BodyHandlers.ofString());
            assertEquals(400, bad.statusCode());
            assertTrue(bad.body().contains("shape f32[2, 3]") && bad.body().contains(rec.voxels() + " voxels"), bad.body());
            HttpResponse<String> garbage = client.send(post(uri, "not an npy".getBytes()), HttpResponse.BodyHandlers.ofString());
            assertEquals(400, garbage.statusCode());
            assertTrue(garbage.body().startsWith("request body"), garbage.body());
            HttpResponse<String> get = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(405, get.statusCode());
        } finally {
            serve.stop();
            t.join(30_000);
        }
        assertFalse(t.isAlive());
    }

    @Test
    void theCliReplaysAndRefusesBadOptionsWithExitCode2() throws Exception {
        Path out = tmp.resolve("cli-replay");
        assertEquals(0, brain2img.cli.Main.execute("serve", "--run", run.toString(), "--replay", data.toString(), "--tr", "0.001",
                "--policy", "all", "--out", out.toString()));
        int n = test.imageIds().length;
        for (int i = 0; i < n; i++) assertArrayEquals(offlinePng(test.imageIds()[i]), Files.readAllBytes(out.resolve(i + ".png")));
        assertEquals("2 unknown policy 'some' (expected latest or all)", cli("serve", "--run", run.toString(), "--replay", data.toString(), "--policy", "some", "--out", out.toString()));
        assertEquals("1 " + run + ": renderer xz needs a z,c run (--targets z,c); this run's targets are pixels",
                cli("serve", "--run", run.toString(), "--replay", data.toString(), "--renderer", "xz", "--out", out.toString()));
        assertEquals("1 " + tmp.resolve("no-run") + ": not a run folder (no run.json)",
                cli("serve", "--run", tmp.resolve("no-run").toString(), "--replay", data.toString(), "--out", out.toString()));
    }

    /** Exit code and the last stderr line (the one-line error) of a CLI call. */
    static String cli(String... args) {
        java.io.PrintStream err = System.err;
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int rc;
        try {
            System.setErr(new java.io.PrintStream(b, true, java.nio.charset.StandardCharsets.UTF_8));
            rc = brain2img.cli.Main.execute(args);
        } finally {
            System.setErr(err);
        }
        String[] lines = b.toString(java.nio.charset.StandardCharsets.UTF_8).strip().split("\n");
        return rc + " " + lines[lines.length - 1].replaceFirst("^brain2img \\S+: (error: )?", "");
    }

    static HttpRequest post(URI uri, byte[] body) {
        return HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20)).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
    }

    static byte[] npy(Tensor t) throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Npy.write(b, t);
        return b.toByteArray();
    }

    /** Writes a file beside the watched folder and renames it in whole, as a scanner export does. */
    static void renameIn(Path dir, String name, byte[] bytes) throws Exception {
        Path part = dir.resolveSibling(name + ".part");
        Files.write(part, bytes);
        Files.move(part, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
    }
}
