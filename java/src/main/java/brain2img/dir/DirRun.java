package brain2img.dir;

import brain2img.backend.Backend;
import brain2img.data.Averaged;
import brain2img.data.Dataset;
import brain2img.data.Split;
import brain2img.data.Trial;
import brain2img.eval.Picture;
import brain2img.io.FormatException;
import brain2img.io.Json;
import brain2img.io.Npy;
import brain2img.ridge.DenseLinAlg;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import brain2img.vision.VisionNet;
import brain2img.vision.VisionNets;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code dir fit} and {@code dir decode} on a run folder:
 * <pre>
 * dir.json                               settings (data, arch, weights, layers, decoder, roi, …) and σ0 per layer
 * features/{train,test}/&lt;layer&gt;.npy     (images, …) f32 features of the stimuli; {train,test}_ids.npy
 * models/x_stats.npy                     (2, voxels) training-response mean and scale (top-voxels)
 * models/&lt;layer&gt;.{voxels,weights,ystats}.npy   top-voxels: (units,k) i32, (units,k) f32, (2,units) f32
 * models/&lt;layer&gt;.alpha.npy               ridgecv: (units) chosen alpha per unit
 * models/&lt;layer&gt;.train_mean.npy          (units) μ_train for the rescaling
 * decoded/&lt;layer&gt;.npy                    (test images, …) decoded and rescaled features, as reconstruct reads them
 * </pre>
 * Every layer is handled in blocks of units; nothing of size voxels × units exists (see the decoders'
 * memory notes). Decoders fit on single training trials (targets repeated per trial), decode from test
 * responses averaged over repetitions.
 */
public final class DirRun {

    public record Settings(Path data, String arch, Path weights, List<String> layers, String decoder, String roi,
                           int voxelsPerUnit, double alpha, double[] alphas, int folds, int batch) {
        public Settings {
            if (!decoder.equals("top-voxels") && !decoder.equals("ridgecv")) throw new IllegalArgumentException("--decoder must be top-voxels or ridgecv, got " + decoder);
        }
    }

    /** Takagi's NSD grid for the ridgecv decoder. */
    public static final double[] RIDGECV_ALPHAS = {1e4, 2e4, 4e4};

    private DirRun() {}

    /** Shen et al.'s 19 layers (pre-ReLU convolutions and fully connected layers) in the arch's node names. */
    public static List<String> defaultLayers(String arch) {
        return switch (arch) {
            case "vgg19-caffe" -> List.of("conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3", "conv3_4",
                    "conv4_1", "conv4_2", "conv4_3", "conv4_4", "conv5_1", "conv5_2", "conv5_3", "conv5_4", "fc6", "fc7", "fc8");
            case "vgg19" -> List.of("features.0", "features.2", "features.5", "features.7", "features.10", "features.12", "features.14",
                    "features.16", "features.19", "features.21", "features.23", "features.25", "features.28", "features.30", "features.32",
                    "features.34", "classifier.0", "classifier.3", "classifier.6");
            default -> throw new IllegalArgumentException("Shen et al.'s method runs on vgg19 or vgg19-caffe, not " + arch);
        };
    }

    // ---------------------------------------------------------------- fit

    public static void fit(Settings s, Path run, Backend be, Consumer<String> log) throws IOException {
        Dataset ds = Dataset.open(s.data());
        List<String> layers = s.layers() == null || s.layers().isEmpty() ? defaultLayers(s.arch()) : s.layers();
        Averaged avg = ds.average(Split.TEST);
        int[] trainIds = ds.imageIds(Split.TRAIN).stream().mapToInt(Integer::intValue).toArray();
        try (VisionNet net = VisionNets.open(s.arch(), s.weights(), null, be)) {
            int size = net.inputSpace().size();
            extract(net, ds, trainIds, layers, run.resolve("features/train"), size, s.batch(), log);
            extract(net, ds, avg.imageIds(), layers, run.resolve("features/test"), size, s.batch(), log);
        }
        Npy.write(run.resolve("features/train_ids.npy"), Tensor.ofInts(trainIds, trainIds.length));
        Npy.write(run.resolve("features/test_ids.npy"), Tensor.ofInts(avg.imageIds(), avg.imageIds().length));

        int[] vox = s.roi() == null ? identity(ds.voxels()) : ds.roi(s.roi());
        List<Trial> trials = ds.trials(Split.TRAIN);
        Map<Integer, Integer> row = new HashMap<>();
        for (int i = 0; i < trainIds.length; i++) row.put(trainIds[i], i);
        int[] targetRow = trials.stream().mapToInt(t -> row.get(t.imageId())).toArray();
        Tensor x = gather(ds.responses(), trials.stream().mapToInt(Trial::index).toArray(), vox);
        log.accept(String.format(Locale.ROOT, "fit: %s decoder, %d training trials × %d voxels (%s), %d layers", s.decoder(), x.dim(0), x.dim(1),
                s.roi() == null ? "all voxels" : s.roi(), layers.size()));
        fitDecoders(s, run, x, targetRow, trials.stream().mapToInt(Trial::imageId).toArray(), layers, log);
    }

    /**
     * Fits the decoder of every layer on x (trials, voxels) with targets = training features at targetRow, and the
     * rescaling statistics; used by {@code dir fit} and by the pipeline (where targetRow may be deranged).
     */
    public static void fitDecoders(Settings s, Path run, Tensor x, int[] targetRow, int[] groups, List<String> layers, Consumer<String> log) throws IOException {
        fitDecoders(s, run.resolve("features/train"), run.resolve("models"), run.resolve("dir.json"), x, targetRow, groups, layers, log);
    }

    /**
     * As above with the folders given: training features read from {@code features}, the models written to
     * {@code models} and the settings with σ0 to {@code meta} (the pipeline keeps a real and a permuted-fit set).
     */
    public static void fitDecoders(Settings s, Path features, Path models, Path meta, Tensor x, int[] targetRow, int[] groups, List<String> layers,
                                   Consumer<String> log) throws IOException {
        StoredFeatures train = new StoredFeatures(features, layers);
        DenseLinAlg la = DenseLinAlg.forBackend(null);
        Map<String, Object> settings = new LinkedHashMap<>(settingsMap(s, layers));
        Map<String, Double> sigma0 = new LinkedHashMap<>();
        TopVoxelDecoder top = null;
        DualRidgeDecoder dual = null;
        if (s.decoder().equals("top-voxels")) {
            top = new TopVoxelDecoder(la, x, s.voxelsPerUnit(), s.alpha());
            double[][] st = top.xStats();
            float[] xs = new float[2 * st[0].length];
            for (int j = 0; j < st[0].length; j++) { xs[j] = (float) st[0][j]; xs[st[0].length + j] = (float) st[1][j]; }
            Npy.write(models.resolve("x_stats.npy"), Tensor.of(xs, 2, st[0].length));
        } else {
            dual = new DualRidgeDecoder(la, x, s.alphas(), s.folds(), groups);
        }
        for (String layer : layers) {
            long units = train.units(layer);
            int[] cp = train.channelsAndPositions(layer);
            FeatureRescale.ChannelStd std = new FeatureRescale.ChannelStd(cp[0], cp[1]);
            float[] mean = new float[Math.toIntExact(units)];
            int block = top != null ? TopVoxelDecoder.BLOCK : DualRidgeDecoder.BLOCK;
            int k = top != null ? top.voxelsPerUnit() : 0;
            try (NpyStream vs = top != null ? new NpyStream(models.resolve(layer + ".voxels.npy"), DType.I32, units, k) : null;
                 NpyStream ws = top != null ? new NpyStream(models.resolve(layer + ".weights.npy"), DType.F32, units, k) : null;
                 NpyStream ym = top != null ? new NpyStream(models.resolve(layer + ".ymean.npy"), DType.F32, units) : null;
                 NpyStream ysd = top != null ? new NpyStream(models.resolve(layer + ".yscale.npy"), DType.F32, units) : null;
                 NpyStream as = dual != null ? new NpyStream(models.resolve(layer + ".alpha.npy"), DType.F32, units) : null) {
                for (long u0 = 0; u0 < units; u0 += block) {
                    int w = (int) Math.min(block, units - u0);
                    float[] img = train.block(layer, u0, u0 + w);
                    std.add(img, train.images(), (int) u0, w);
                    for (int j = 0; j < w; j++) {
                        double acc = 0;
                        for (int i = 0; i < train.images(); i++) acc += img[i * w + j];
                        mean[(int) u0 + j] = (float) (acc / train.images());
                    }
                    float[] y = new float[targetRow.length * w];
                    for (int t = 0; t < targetRow.length; t++) System.arraycopy(img, targetRow[t] * w, y, t * w, w);
                    if (top != null) {
                        TopVoxelDecoder.Block b = top.fit(y, w);
                        vs.append(b.voxels());
                        ws.append(b.weights(), 0, b.weights().length);
                        ym.append(b.yMean(), 0, w);
                        ysd.append(b.yScale(), 0, w);
                    } else {
                        double[] a = dual.chooseAlphas(y, w);
                        float[] af = new float[w];
                        for (int j = 0; j < w; j++) af[j] = (float) a[j];
                        as.append(af, 0, w);
                    }
                }
                for (NpyStream st : new NpyStream[]{vs, ws, ym, ysd, as}) if (st != null) st.commit();
            }
            Npy.write(models.resolve(layer + ".train_mean.npy"), Tensor.of(mean, units));
            sigma0.put(layer, std.meanStd());
            log.accept(String.format(Locale.ROOT, "fit: %s, %d units, σ0 %.4g", layer, units, sigma0.get(layer)));
        }
        settings.put("sigma0", sigma0);
        Json.write(meta, settings);
    }

    // ---------------------------------------------------------------- decode

    /** Decodes the test images' averaged responses of the run's data set into decoded/&lt;layer&gt;.npy. */
    public static void decode(Path run, Consumer<String> log) throws IOException {
        Settings s = read(run);
        Dataset ds = Dataset.open(s.data());
        Averaged avg = ds.average(Split.TEST);
        int[] vox = s.roi() == null ? identity(ds.voxels()) : ds.roi(s.roi());
        Tensor x = gather(avg.responses(), identity(avg.imageIds().length), vox);
        List<Trial> trials = ds.trials(Split.TRAIN);
        int[] trainIds = Npy.read(run.resolve("features/train_ids.npy")).toIntArray();
        Map<Integer, Integer> row = new HashMap<>();
        for (int i = 0; i < trainIds.length; i++) row.put(trainIds[i], i);
        int[] targetRow = trials.stream().mapToInt(t -> row.get(t.imageId())).toArray();
        Tensor xTrain = s.decoder().equals("ridgecv") ? gather(ds.responses(), trials.stream().mapToInt(Trial::index).toArray(), vox) : null;
        decodeInto(run, s, x, xTrain, targetRow, run.resolve("decoded"), log);
    }

    /** Decodes responses x (m, voxels) with the run's models into {@code out}/&lt;layer&gt;.npy, rescaled. */
    public static void decodeInto(Path run, Settings s, Tensor x, Tensor xTrain, int[] targetRow, Path out, Consumer<String> log) throws IOException {
        decodeInto(run.resolve("features/train"), run.resolve("models"), run.resolve("dir.json"), s, x, xTrain, targetRow, out, log);
    }

    /** As above with the folders of {@link #fitDecoders(Settings, Path, Path, Path, Tensor, int[], int[], List, Consumer)}. */
    public static void decodeInto(Path features, Path models, Path metaFile, Settings s, Tensor x, Tensor xTrain, int[] targetRow, Path out,
                                  Consumer<String> log) throws IOException {
        JsonNode meta = Json.read(metaFile);
        List<String> layers = new ArrayList<>();
        meta.get("layers").forEach(n -> layers.add(n.asText()));
        StoredFeatures train = new StoredFeatures(features, layers);
        int m = x.dimInt(0);
        double[] xz = null;
        Tensor z = null;
        DualRidgeDecoder dual = null;
        if (s.decoder().equals("top-voxels")) {
            Tensor st = Npy.read(models.resolve("x_stats.npy"));
            int p = st.dimInt(1);
            double[] all = st.toDoubleArray();
            xz = TopVoxelDecoder.zscoreWith(x, Arrays.copyOfRange(all, 0, p), Arrays.copyOfRange(all, p, 2 * p));
        } else {
            dual = new DualRidgeDecoder(DenseLinAlg.forBackend(null), xTrain, s.alphas(), 0, null);
            z = dual.project(x);
        }
        for (String layer : layers) {
            long units = train.units(layer);
            long[] shape = train.shape(layer);
            long[] outShape = new long[shape.length + 1];
            outShape[0] = m;
            System.arraycopy(shape, 0, outShape, 1, shape.length);
            float[] mean = Npy.read(models.resolve(layer + ".train_mean.npy")).toFloatArray();
            double sigma0 = meta.path("sigma0").path(layer).asDouble();
            Tensor vox = null, wts = null, ym = null, ysd = null, alpha = null;
            if (dual == null) {
                vox = Npy.map(models.resolve(layer + ".voxels.npy"));
                wts = Npy.map(models.resolve(layer + ".weights.npy"));
                ym = Npy.map(models.resolve(layer + ".ymean.npy"));
                ysd = Npy.map(models.resolve(layer + ".yscale.npy"));
            } else {
                alpha = Npy.map(models.resolve(layer + ".alpha.npy"));
            }
            double[] sum = new double[m], sumSq = new double[m];
            try (NpyStream o = new NpyStream(out.resolve(layer + ".npy"), DType.F32, outShape)) {
                int block = DualRidgeDecoder.BLOCK;
                for (long u0 = 0; u0 < units; u0 += block) {
                    int w = (int) Math.min(block, units - u0);
                    float[] pred;
                    if (dual == null) {
                        int k = vox.dimInt(1);
                        TopVoxelDecoder.Block b = new TopVoxelDecoder.Block(w, k, vox.slice(u0, u0 + w).toIntArray(), wts.slice(u0, u0 + w).toFloatArray(),
                                ym.slice(u0, u0 + w).toFloatArray(), ysd.slice(u0, u0 + w).toFloatArray());
                        pred = b.predict(xz, m, x.dimInt(1));
                    } else {
                        float[] y = new float[targetRow.length * w], img = train.block(layer, u0, u0 + w);
                        for (int t = 0; t < targetRow.length; t++) System.arraycopy(img, targetRow[t] * w, y, t * w, w);
                        double[] a = new double[w];
                        for (int j = 0; j < w; j++) a[j] = alpha.getFloat(u0 + j);
                        pred = dual.predict(z, y, w, a);
                    }
                    for (int i = 0; i < m; i++) for (int j = 0; j < w; j++) {
                        double d = pred[i * w + j] - mean[(int) u0 + j];
                        sum[i] += d;
                        sumSq[i] += d * d;
                    }
                    o.writeColumns(pred, m, w, units, u0);
                }
                o.reserve();
                for (int i = 0; i < m; i++) { // second pass: FeatureRescale per image, from the accumulated moments
                    double mu = sum[i] / units, var = (sumSq[i] - units * mu * mu) / (units - 1);
                    double gain = var > 0 ? sigma0 / Math.sqrt(var) : 0;
                    for (long u0 = 0; u0 < units; u0 += 1 << 20) {
                        int w = (int) Math.min(1 << 20, units - u0);
                        float[] v = o.read(i * units + u0, w);
                        for (int j = 0; j < w; j++) {
                            double d = v[j] - mean[(int) u0 + j];
                            v[j] = (float) ((d - mu) * gain + mu + mean[(int) u0 + j]);
                        }
                        o.overwrite(i * units + u0, v);
                    }
                }
                o.commit();
            }
            log.accept("decode: " + layer + " " + Arrays.toString(outShape));
        }
    }

    // ---------------------------------------------------------------- features

    /** Features of the given stimuli (resized to size²) at every layer into dir/&lt;layer&gt;.npy, batch by batch. */
    public static void extract(VisionNet net, Dataset ds, int[] ids, List<String> layers, Path dir, int size, int batch, Consumer<String> log) throws IOException {
        Map<String, NpyStream> out = new LinkedHashMap<>();
        try {
            for (int b0 = 0; b0 < ids.length; b0 += batch) {
                int b1 = Math.min(ids.length, b0 + batch);
                Map<String, Tensor> f = net.features(inputs(net.inputSpace(), size, ds, Arrays.copyOfRange(ids, b0, b1)), layers);
                for (String l : layers) {
                    Tensor t = f.get(l);
                    if (!out.containsKey(l)) {
                        long[] shape = t.shape();
                        shape[0] = ids.length;
                        out.put(l, new NpyStream(dir.resolve(l + ".npy"), DType.F32, shape));
                    }
                    float[] v = t.toFloatArray();
                    out.get(l).append(v, 0, v.length);
                }
            }
            for (NpyStream s : out.values()) s.commit();
        } finally {
            for (NpyStream s : out.values()) s.close();
        }
        log.accept("features: " + ids.length + " images → " + dir);
    }

    /** Stimuli as network input (n,3,s,s): resized to s², then the weights' own convention. */
    static Tensor inputs(VisionNet.InputSpace sp, int s, Dataset ds, int[] ids) {
        int plane = s * s;
        float[] v = new float[ids.length * 3 * plane];
        for (int i = 0; i < ids.length; i++) {
            double[] rgb = Picture.of(ds.stimulus(ids[i])).rgb().resize(s, s).data();
            for (int c = 0; c < 3; c++) {
                int src = sp.bgr255() ? 2 - c : c; // Caffe: BGR
                for (int j = 0; j < plane; j++) {
                    double x = rgb[src * plane + j];
                    v[(i * 3 + c) * plane + j] = (float) (sp.bgr255() ? 255 * x - sp.mean()[c] : (x - sp.mean()[c]) / sp.std()[c]);
                }
            }
        }
        return Tensor.of(v, ids.length, 3, s, s);
    }

    // ---------------------------------------------------------------- helpers

    static Map<String, Object> settingsMap(Settings s, List<String> layers) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("data", s.data().toString());
        m.put("arch", s.arch());
        m.put("weights", s.weights().toString());
        m.put("layers", layers);
        m.put("decoder", s.decoder());
        m.put("roi", s.roi());
        m.put("voxels_per_unit", s.voxelsPerUnit());
        m.put("alpha", s.alpha());
        m.put("alphas", s.alphas());
        m.put("folds", s.folds());
        m.put("batch", s.batch());
        return m;
    }

    public static Settings read(Path run) {
        Path f = run.resolve("dir.json");
        if (!Files.isRegularFile(f)) throw new FormatException(f + ": no such file (run `dir fit` first)");
        JsonNode j = Json.read(f);
        List<String> layers = new ArrayList<>();
        j.get("layers").forEach(n -> layers.add(n.asText()));
        double[] alphas = new double[j.get("alphas").size()];
        for (int i = 0; i < alphas.length; i++) alphas[i] = j.get("alphas").get(i).asDouble();
        return new Settings(Path.of(j.get("data").asText()), j.get("arch").asText(), Path.of(j.get("weights").asText()), layers,
                j.get("decoder").asText(), j.hasNonNull("roi") ? j.get("roi").asText() : null, j.get("voxels_per_unit").asInt(),
                j.get("alpha").asDouble(), alphas, j.get("folds").asInt(), j.get("batch").asInt());
    }

    static int[] identity(int n) {
        int[] a = new int[n];
        Arrays.setAll(a, i -> i);
        return a;
    }

    /** (rows, cols) f32 copy of m[rows][cols]. */
    static Tensor gather(Tensor m, int[] rows, int[] cols) {
        int w = m.dimInt(1);
        float[] out = new float[rows.length * cols.length];
        for (int r = 0; r < rows.length; r++) for (int c = 0; c < cols.length; c++) out[r * cols.length + c] = m.getFloat((long) rows[r] * w + cols[c]);
        return Tensor.of(out, rows.length, cols.length);
    }
}
