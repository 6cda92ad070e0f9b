package brain2img.eval;

import brain2img.io.AtomicFiles;
import brain2img.io.Json;
import brain2img.io.Npy;
import brain2img.tensor.Tensor;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Ground-truth and training-image features on disk, computed once per data set and network: each entry is a
 * float32 (n, d) {@code .npy} named by the SHA-256 of its key (weights hash, node, preprocessing, data set and
 * image ids), with the key itself beside it in a {@code .key} file. The weights' SHA-256 is remembered in
 * {@code weights-sha256.json} by path, size and modification time, so a 1.7 GB CLIP file is hashed once.
 */
public final class FeatureCache {
    private final Path dir;

    public FeatureCache(Path dir) {
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    /** The cached (n, d) features for this key, or null. */
    public float[][] get(String key) {
        Path f = file(key);
        if (!Files.isRegularFile(f)) return null;
        Tensor t = Npy.read(f);
        int n = t.dimInt(0), d = t.dimInt(1);
        float[] all = t.toFloatArray();
        float[][] out = new float[n][d];
        for (int i = 0; i < n; i++) System.arraycopy(all, i * d, out[i], 0, d);
        return out;
    }

    public void put(String key, float[][] features) throws IOException {
        int n = features.length, d = features[0].length;
        float[] all = new float[n * d];
        for (int i = 0; i < n; i++) System.arraycopy(features[i], 0, all, i * d, d);
        Files.createDirectories(dir);
        AtomicFiles.write(keyFile(key), key.getBytes(StandardCharsets.UTF_8));
        Npy.write(file(key), Tensor.of(all, n, d));
    }

    private Path file(String key) {
        return dir.resolve(sha256(key).substring(0, 24) + ".npy");
    }

    private Path keyFile(String key) {
        return dir.resolve(sha256(key).substring(0, 24) + ".key");
    }

    /** SHA-256 of a weights file (and of its config where given), remembered by path, size and mtime. */
    public String weightsHash(Path weights, Path config) throws IOException {
        Path memo = dir.resolve("weights-sha256.json");
        String id = weights.toAbsolutePath().normalize() + "|" + Files.size(weights) + "|" + Files.getLastModifiedTime(weights).toMillis()
                + (config == null ? "" : "|" + config.toAbsolutePath().normalize() + "|" + Files.size(config) + "|" + Files.getLastModifiedTime(config).toMillis());
        ObjectNode known = Files.isRegularFile(memo) && Json.read(memo) instanceof ObjectNode o ? o : Json.MAPPER.createObjectNode();
        JsonNode hit = known.get(id);
        if (hit != null && hit.isTextual()) return hit.asText();
        MessageDigest md = digest();
        update(md, weights);
        if (config != null) update(md, config);
        String h = HexFormat.of().formatHex(md.digest());
        known.put(id, h);
        Files.createDirectories(dir);
        Json.write(memo, known);
        return h;
    }

    private static void update(MessageDigest md, Path file) throws IOException {
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int r; (r = in.read(buf)) > 0; ) md.update(buf, 0, r);
        }
    }

    static String sha256(String s) {
        return HexFormat.of().formatHex(digest().digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
