package brain2img.serve;

import brain2img.api.Reconstructor;
import brain2img.io.FormatException;
import brain2img.io.Json;
import brain2img.io.Npy;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * {@code POST /reconstruct}: the body is an {@code .npy} of the data set's voxel vector ((V,) or (1,V)); the answer
 * is the PNG, with the stage latencies as JSON in the {@code X-Brain2img-Latency-Ms} header. A body of the wrong
 * shape or not an .npy gets 400 with a one-line message; other paths 404, other methods 405. Requests bypass
 * the stream's queue and its online preprocessing (they are stateless) and are not written to the output folder.
 */
final class HttpEndpoint implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService pool;

    HttpEndpoint(InetAddress bind, int port, VolumeFiles files, VolumeRenderer renderer, int voxels, Consumer<String> log) throws IOException {
        server = HttpServer.create(new InetSocketAddress(bind, port), 16);
        long maxBody = 8L * voxels + 4096; // an f64 vector and a generous header
        server.createContext("/reconstruct", ex -> handle(ex, files, renderer, maxBody, log));
        server.createContext("/", ex -> reply(ex, 404, "text/plain", "not found: POST /reconstruct with an .npy body\n".getBytes(StandardCharsets.UTF_8)));
        pool = Executors.newFixedThreadPool(2, r -> Thread.ofPlatform().daemon().name("brain2img-http").unstarted(r));
        server.setExecutor(pool);
        server.start();
    }

    /** The port actually bound (useful with port 0). */
    int port() {
        return server.getAddress().getPort();
    }

    private static void handle(HttpExchange ex, VolumeFiles files, VolumeRenderer renderer, long maxBody, Consumer<String> log) throws IOException {
        try (ex) {
            if (!ex.getRequestMethod().equals("POST")) {
                ex.getResponseHeaders().set("Allow", "POST");
                reply(ex, 405, "text/plain", "use POST with an .npy body\n".getBytes(StandardCharsets.UTF_8));
                return;
            }
            byte[] body;
            try (InputStream in = ex.getRequestBody()) {
                body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBody + 1));
            }
            if (body.length > maxBody) {
                reply(ex, 413, "text/plain", ("body over " + maxBody + " bytes: a volume of this run is at most that\n").getBytes(StandardCharsets.UTF_8));
                return;
            }
            Reconstructor.Result r;
            try {
                float[] v = files.checked(Npy.read(new ByteArrayInputStream(body), "request body"), "request body");
                r = renderer.reconstruct(v);
            } catch (FormatException | IllegalArgumentException | IOException e) {
                reply(ex, 400, "text/plain", (e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8));
                return;
            } catch (RuntimeException e) {
                log.accept("serve: HTTP request failed: " + e);
                reply(ex, 500, "text/plain", ("reconstruction failed: " + e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8));
                return;
            }
            Map<String, Double> ms = new LinkedHashMap<>(r.latencyMs());
            ex.getResponseHeaders().set("X-Brain2img-Latency-Ms", Json.MAPPER.writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT).writeValueAsString(ms));
            reply(ex, 200, "image/png", r.png());
        }
    }

    private static void reply(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream o = ex.getResponseBody()) {
            o.write(body);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }
}
