package brain2img.encode;

import brain2img.backend.Backend;
import brain2img.data.Dataset;
import brain2img.data.Split;
import brain2img.eval.Picture;
import brain2img.io.AtomicFiles;
import brain2img.io.Npy;
import brain2img.tensor.Tensor;
import brain2img.vision.VisionNet;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Feature matrices of every space for the training and test images, computed once and cached under
 * {@code RUN/features/<space>/{train,test}.npy} (images × features, float32, rows in the order of
 * {@link Dataset#imageIds(Split)}) with a {@code key.txt} of everything they depend on; a changed key recomputes.
 * Features are written batch by batch and read back memory-mapped, so the largest spaces stay off the heap.
 */
final class FeatureStore implements AutoCloseable {
    static final int BATCH = 8;

    private final Dataset ds;
    private final Path dir;
    private final FeatureSettings s;
    private final Backend be;
    private final VisionNetLoader loader;
    private final Consumer<String> log;
    private final Map<String, VisionNet> nets = new HashMap<>();
    private final Map<String, Tensor> loaded = new HashMap<>(); // by space file name and split
    private SdFeatures sd;

    FeatureStore(Dataset ds, Path runDir, FeatureSettings s, Backend be, VisionNetLoader loader, Consumer<String> log) {
        this.ds = ds;
        this.dir = runDir.resolve("features");
        this.s = s;
        this.be = be;
        this.loader = loader;
        this.log = log;
    }

    /** The (images, d) float32 features of a split's images. */
    Tensor get(Space space, Split split) throws IOException {
        Path folder = dir.resolve(space.fileName()), file = folder.resolve(split.lower() + ".npy"), keyFile = folder.resolve("key.txt");
        String key = key(space), memo = space.fileName() + "/" + split.lower();
        if (loaded.containsKey(memo)) return loaded.get(memo);
        if (Files.isRegularFile(file) && Files.isRegularFile(keyFile) && Files.readString(keyFile, StandardCharsets.UTF_8).equals(key)) {
            Tensor t = Npy.map(file);
            loaded.put(memo, t);
            return t;
        }
        if (Files.isRegularFile(keyFile) && !Files.readString(keyFile, StandardCharsets.UTF_8).equals(key)) {
            for (Split sp : Split.values()) Files.deleteIfExists(folder.resolve(sp.lower() + ".npy"));
        }
        List<Integer> ids = ds.imageIds(split);
        if (ids.isEmpty()) throw new IllegalArgumentException(ds.dir() + ": no " + split.lower() + " images for space " + space);
        long t0 = System.nanoTime();
        float[][] first = compute(space, split, ids.subList(0, Math.min(ids.size(), BATCH)), 0);
        int d = first[0].length;
        // batch by batch into the file, which is then mapped: a space is never held whole on the heap
        Npy.writeRows(file, ids.size(), d, rows -> {
            for (float[] row : first) rows.row(row);
            for (int i0 = BATCH; i0 < ids.size(); i0 += BATCH) {
                for (float[] row : compute(space, split, ids.subList(i0, Math.min(ids.size(), i0 + BATCH)), i0)) rows.row(row);
            }
        });
        AtomicFiles.write(keyFile, key.getBytes(StandardCharsets.UTF_8));
        Tensor t = Npy.map(file);
        loaded.put(memo, t);
        log.accept(String.format(java.util.Locale.ROOT, "features %s: %d %s images × %d values in %.1f s", space, ids.size(), split.lower(), d,
                (System.nanoTime() - t0) / 1e9));
        return t;
    }

    /** One batch of images (ids, starting at row i0 of the split). */
    private float[][] compute(Space space, Split split, List<Integer> ids, int i0) throws IOException {
        return switch (space.kind()) {
            case PIXELS -> pixels(ids);
            case Z -> sd().z(ids.stream().map(ds::stimulus).toList());
            case C -> ids.stream().map(this::captionFeature).toArray(float[][]::new);
            case ZC -> sd().zc(rows(Space.parse("z"), split, i0, ids.size()), rows(Space.parse("c"), split, i0, ids.size()), space.strength(), s.sdSteps(), s.guidance());
            case UNET -> sd().unet(rows(Space.parse("z"), split, i0, ids.size()), rows(Space.parse("c"), split, i0, ids.size()), space.node(), sd().timestep(space.timestep()));
            case NET -> net(space, ids);
        };
    }

    private float[] captionFeature(int id) {
        List<String> caps = ds.captions(id);
        if (caps.isEmpty()) throw new IllegalArgumentException(ds.dir() + ": image " + id + " has no captions (the c space needs them)");
        return sd().c(caps);
    }

    /** Rows [i0, i0+n) of another (cached) space. */
    private float[][] rows(Space other, Split split, int i0, int n) throws IOException {
        Tensor t = get(other, split);
        int d = t.dimInt(1);
        float[] block = t.slice(i0, i0 + n).toFloatArray(); // a view of the rows, copied once
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) out[i] = java.util.Arrays.copyOfRange(block, i * d, (i + 1) * d);
        return out;
    }

    private float[][] pixels(List<Integer> ids) {
        int c = ds.imageSize()[0];
        float[][] out = new float[ids.size()][];
        for (int i = 0; i < ids.size(); i++) {
            double[] v = Picture.of(ds.stimulus(ids.get(i))).resize(s.pixelSize(), s.pixelSize()).data();
            out[i] = new float[c * s.pixelSize() * s.pixelSize()];
            for (int j = 0; j < v.length; j++) out[i][j] = (float) v[j];
        }
        return out;
    }

    /** Images resized to the network's input size and normalised as its weights expect, then the node's output. */
    private float[][] net(Space space, List<Integer> ids) {
        VisionNet net = nets.computeIfAbsent(space.arch(), a -> loader.open(a, netWeights(a), null, be));
        if (!net.nodes().contains(space.node())) {
            throw new IllegalArgumentException("space " + space + ": " + space.arch() + " has no node '" + space.node() + "'; it has " + String.join(", ", net.nodes()));
        }
        VisionNet.InputSpace in = net.inputSpace();
        int sz = in.size(), plane = sz * sz;
        float[] x = new float[ids.size() * 3 * plane];
        for (int i = 0; i < ids.size(); i++) {
            double[] v = Picture.of(ds.stimulus(ids.get(i))).rgb().resize(sz, sz).data();
            for (int ch = 0; ch < 3; ch++) {
                int src = in.bgr255() ? 2 - ch : ch; // Caffe: BGR order, 0–255, mean subtracted
                for (int p = 0; p < plane; p++) {
                    double val = in.bgr255() ? 255 * v[src * plane + p] - in.mean()[ch] : (v[src * plane + p] - in.mean()[ch]) / in.std()[ch];
                    x[(i * 3 + ch) * plane + p] = (float) val;
                }
            }
        }
        Tensor out = be.download(net.features(Tensor.of(x, ids.size(), 3, sz, sz), List.of(space.node())).get(space.node()));
        float[] all = out.toFloatArray();
        int d = all.length / ids.size();
        float[][] rows = new float[ids.size()][];
        for (int i = 0; i < ids.size(); i++) rows[i] = java.util.Arrays.copyOfRange(all, i * d, (i + 1) * d);
        return rows;
    }

    /** The weights of ARCH under --nets: DIR/ARCH (a folder), or DIR/ARCH.{safetensors,pth,pt,pth.tar}. */
    private Path netWeights(String arch) {
        if (s.nets() == null) throw new IllegalArgumentException("net:" + arch + ": spaces need --nets DIR (the vision network weights)");
        for (String ext : new String[]{"", ".safetensors", ".pth", ".pt", ".pth.tar"}) {
            Path p = s.nets().resolve(arch + ext);
            if (Files.exists(p)) return p;
        }
        throw new IllegalArgumentException(s.nets() + ": no weights for " + arch + " (expected " + arch + "/ or " + arch + ".safetensors|.pth|.pt|.pth.tar)");
    }

    private SdFeatures sd() {
        if (sd == null) sd = new SdFeatures(s.weights(), be, s.sdSize(), s.seed());
        return sd;
    }

    private String key(Space space) {
        String base = "space=" + space.name() + "\ndata=" + ds.dir().toAbsolutePath().normalize() + "\n";
        return base + switch (space.kind()) {
            case PIXELS -> "pixel_size=" + s.pixelSize() + "\n";
            case Z, C -> "weights=" + s.weights() + "\nsd_size=" + s.sdSize() + "\n";
            case ZC, UNET -> "weights=" + s.weights() + "\nsd_size=" + s.sdSize() + "\nsd_steps=" + s.sdSteps() + "\nguidance=" + s.guidance() + "\nseed=" + s.seed() + "\n";
            case NET -> "nets=" + s.nets() + "\n";
        };
    }

    @Override
    public void close() {
        for (VisionNet n : nets.values()) n.close();
        if (sd != null) sd.close();
    }
}
