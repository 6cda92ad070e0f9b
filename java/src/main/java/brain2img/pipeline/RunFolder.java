package brain2img.pipeline;

import brain2img.data.Averaged;
import brain2img.data.Dataset;
import brain2img.data.Split;
import brain2img.data.Trial;
import brain2img.eval.Audit;
import brain2img.eval.FeatureCache;
import brain2img.eval.MetricNets;
import brain2img.eval.NetSuite;
import brain2img.eval.Picture;
import brain2img.io.AtomicFiles;
import brain2img.backend.Backend;
import brain2img.io.FormatException;
import brain2img.io.Npy;
import brain2img.io.SafeTensors;
import brain2img.ridge.RidgeModel;
import brain2img.ridge.RidgeOptions;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What {@link Pipeline} and {@link SdPipeline} share: the run folder with its stamps and config, the lazily
 * opened data set, and the parts of their stages that do the same thing whatever the targets (training pairs,
 * the decoded nulls, ground truth and reconstructions for the audit, the report settings).
 */
final class RunFolder {
    static final String ALL_VOXELS = "all voxels";

    final RunConfig cfg;
    final Consumer<String> log;
    final Stamps stamps;
    private final Path out;
    private Dataset dataset;

    RunFolder(RunConfig cfg, Consumer<String> log) {
        if (cfg.out() == null) throw new IllegalArgumentException("no run folder (--out) given");
        this.cfg = cfg;
        this.log = log;
        this.out = cfg.out();
        this.stamps = new Stamps(out);
    }

    /** A file of the run folder. */
    Path f(String relative) {
        return out.resolve(relative);
    }

    /**
     * Opens (validates) the data set, saves the effective config as run.json, then runs the stages through
     * {@code last}. A bad data set fails before the run folder is created, so it leaves nothing behind.
     */
    boolean through(Stages.Stage last, Stages.Step... steps) throws IOException {
        dataset();
        Files.createDirectories(out);
        cfg.write(out.resolve("run.json"));
        return Stages.run(last, log, steps);
    }

    Dataset dataset() {
        if (dataset == null) {
            if (cfg.data() == null) throw new IllegalArgumentException("no data set (--data) given");
            dataset = Dataset.open(cfg.data());
        }
        return dataset;
    }

    /** The stamp key of the features stage: the given config fields and the data set's name and trial count. */
    String featuresKey(String... fields) {
        Dataset ds = dataset();
        return cfg.key(fields) + "dataset=" + ds.name() + ";trials=" + ds.trials().size() + ";";
    }

    /** --roi where given, else {@code preferred} where the data set has that ROI, else all voxels. */
    String roiName(String preferred) {
        if (cfg.roi() != null) return cfg.roi();
        return dataset().roiNames().contains(preferred) ? preferred : ALL_VOXELS;
    }

    /** The voxel indices of an ROI named by {@link #roiName}. */
    int[] voxels(String roi) {
        return roi.equals(ALL_VOXELS) ? Rows.identity(dataset().voxels()) : dataset().roi(roi);
    }

    /** The single training trials paired with the rows of the training targets (ids: their image ids). */
    TrainingPairs trainingPairs(int[] trainIds) {
        Map<Integer, Integer> row = Rows.rowOf(trainIds);
        List<Trial> trials = dataset().trials(Split.TRAIN);
        int[] targetRow = new int[trials.size()];
        for (int t = 0; t < targetRow.length; t++) targetRow[t] = row.get(trials.get(t).imageId());
        RidgeOptions opt = RidgeOptions.defaults(cfg.alphas()).withFolds(cfg.folds())
                .withGroups(trials.stream().mapToInt(Trial::imageId).toArray()).withStandardize(true);
        return new TrainingPairs(trials, targetRow, trainIds.length, cfg.seed() + 1, opt);
    }

    /**
     * Training trials and the target row of each.
     *
     * @param options ridge with CV folds grouped by image, z-scored voxels
     */
    record TrainingPairs(List<Trial> trials, int[] targetRow, int images, long permutationSeed, RidgeOptions options) {
        /** (trials, voxels) responses of the training trials. */
        Tensor responses(Dataset ds, int[] voxels) {
            return Rows.gather(ds.responses(), trials.stream().mapToInt(Trial::index).toArray(), voxels);
        }

        /** The permuted-fit null's target rows: every training image's trials paired with another image's targets. */
        int[] permutedRow() {
            int[] perm = Rows.derangement(images, permutationSeed);
            int[] p = new int[targetRow.length];
            for (int t = 0; t < p.length; t++) p[t] = perm[targetRow[t]];
            return p;
        }
    }

    /** The test responses averaged over repetitions, checked to be for the test images the features were made of. */
    Averaged testAverage(int[] testIds) {
        Averaged avg = dataset().average(Split.TEST);
        if (!Arrays.equals(avg.imageIds(), testIds)) {
            throw new IllegalStateException("test images of " + dataset().dir() + " changed since the features stage; rerun with --force");
        }
        return avg;
    }

    /**
     * The decoded nulls of one target into {@code dir}: shuffled, permuted_fit, train_mean, nearest_train, ceiling.
     *
     * @param x       (n, voxels) averaged test responses
     * @param shuffle derangement of the n test images
     * @param nearest for each test image, the row of {@code train} nearest to its decoding
     */
    static void writeNulls(Path dir, RidgeModel model, Path permutedModel, Tensor x, int[] shuffle, Tensor train, Tensor test,
                           int[] nearest) throws IOException {
        int n = x.dimInt(0);
        Npy.write(dir.resolve("shuffled.npy"), model.predict(Rows.rows(x, shuffle)).to(DType.F32));
        Npy.write(dir.resolve("permuted_fit.npy"), RidgeModel.load(permutedModel).predict(x).to(DType.F32));
        Npy.write(dir.resolve("train_mean.npy"), Rows.rows(Rows.meanRow(train), new int[n]));
        Npy.write(dir.resolve("nearest_train.npy"), Rows.rows(train, nearest));
        Npy.write(dir.resolve("ceiling.npy"), test);
    }

    /** The stimuli of the given images. */
    Picture[] pictures(int[] ids) {
        Picture[] t = new Picture[ids.length];
        for (int i = 0; i < ids.length; i++) t[i] = Picture.of(dataset().stimulus(ids[i]));
        return t;
    }

    /** The audit of reconstructions of {@code truth}; memorisation is checked against the training stimuli at the pixel space. */
    Audit audit(Picture[] truth, Map<String, double[][]> truthFeatures, int[] trainIds) {
        int[] space = Audit.pixelSpaceSize(truth[0].height(), truth[0].width(), cfg.pixelSpace());
        Picture[] training = new Picture[trainIds.length];
        for (int i = 0; i < training.length; i++) training[i] = Picture.of(dataset().stimulus(trainIds[i])).resize(space[0], space[1]);
        return new Audit(truth, truthFeatures, training, new Audit.Options(cfg.bootstrap(), cfg.permutations(), cfg.seed(), cfg.pixelSpace()));
    }

    /**
     * The published network metrics of a run with {@code --nets} (null without): the networks found opened with
     * {@code loader}, each missing one logged once, ground-truth and training features prepared (cached under
     * {@code features/nets}, keyed by weights hash, node, preprocessing, data set and image ids). Training
     * stimuli are read as the networks need them, never all held.
     */
    NetSuite netSuite(Backend backend, NetSuite.Loader loader, Picture[] truth, int[] testIds, int[] trainIds) throws IOException {
        if (cfg.nets() == null) return null;
        if (loader == null) throw new IllegalStateException("--nets given but no vision network loader");
        MetricNets.Discovery found = MetricNets.discover(cfg.nets());
        for (String m : found.missing()) log.accept("evaluate: " + m + " (its metrics are left out)");
        FeatureCache cache = new FeatureCache(f("features/nets"));
        NetSuite suite = NetSuite.open(found, loader, backend, cache, log);
        try {
            String images = "dataset=" + dataset().name() + ";test=" + Arrays.hashCode(testIds) + "/" + testIds.length
                    + ";train=" + Arrays.hashCode(trainIds) + "/" + trainIds.length;
            List<Picture> training = new AbstractList<>() {
                @Override
                public Picture get(int i) {
                    return Picture.of(dataset().stimulus(trainIds[i]));
                }

                @Override
                public int size() {
                    return trainIds.length;
                }
            };
            suite.prepare(Arrays.asList(truth), training, cache, images);
            for (String note : suite.notes()) if (!found.missing().contains(note)) log.accept("evaluate: " + note);
            return suite;
        } catch (RuntimeException | IOException e) {
            suite.close();
            throw e;
        }
    }

    /** An audit entry of recon/&lt;name&gt;.npy with the given feature spaces, and the network metrics where {@code nets} is given. */
    Audit.Entry entry(String name, Map<String, double[][][]> features, NetSuite nets) {
        Picture[][] pics = recon(name);
        return new Audit.Entry(name, pics, features, nets == null ? null : () -> nets.correlate(pics));
    }

    /** The settings entries describing the metric networks used (nothing without --nets). */
    static Map<String, Object> netSettings(NetSuite nets) {
        Map<String, Object> s = new LinkedHashMap<>();
        if (nets == null) return s;
        s.put("metric_networks", new java.util.TreeMap<>(nets.networks()));
        if (!nets.notes().isEmpty()) s.put("metric_networks_notes", nets.notes());
        s.put("metric_definitions", "MindEye2 (final_evaluations: 256² bilinear without antialias, then Resize/Normalize per network; two-way per "
                + "reconstruction; EffNet-B, SwAV as correlation distance) under alexnet2 … swav; Takagi (Resize(299) antialiased + CenterCrop(299), "
                + "ground-truth anchored, r averaged over samples) under takagi_*");
        return s;
    }

    /** recon/&lt;name&gt;.npy (n,K,C,h,w) as pictures [n][K]. */
    Picture[][] recon(String name) {
        Path file = f("recon/" + name + ".npy");
        Tensor r = Npy.read(file);
        if (r.rank() != 5) throw new FormatException(file + ": expected (n,K,C,h,w), got " + r.shapeString());
        int n = r.dimInt(0), k = r.dimInt(1);
        Picture[][] p = new Picture[n][k];
        for (int i = 0; i < n; i++) for (int s = 0; s < k; s++) p[i][s] = Picture.of(r.get(i).get(s));
        return p;
    }

    // ---------------------------------------------------------------- the render stage's units

    /**
     * The render stage over units: this shard's missing units are rendered; once every unit of the plan is
     * present (whichever process wrote it) the caller gathers them. Throws {@link Stages.Pending} when units of
     * other shards are still missing, which ends this process's run after the render stage.
     */
    void renderUnits(List<Planner.Unit> units, Path unitsDir, Planner.Shard shard, UnitWork work) throws IOException {
        int rendered = 0;
        for (Planner.Unit u : units) {
            if (shard.owns(u) && !Planner.done(unitsDir, u)) {
                work.render(u);
                rendered++;
            }
        }
        long missing = units.stream().filter(u -> !Planner.done(unitsDir, u)).count();
        if (missing > 0) {
            throw new Stages.Pending(String.format(java.util.Locale.ROOT,
                    "render: shard %s rendered %d unit%s; %d of %d units are still missing (other shards); the last shard, "
                            + "or 'brain2img render --out %s', gathers them", shard, rendered, rendered == 1 ? "" : "s", missing, units.size(), out));
        }
    }

    /** Renders one unit, writing its outputs (the unit's .npy last). */
    @FunctionalInterface
    interface UnitWork {
        void render(Planner.Unit u) throws IOException;
    }

    /**
     * The per-unit files of one kind, in plan order, concatenated along the image axis into {@code target}
     * (streamed: header of the total shape, then each unit's data).
     */
    static void concatenate(List<Path> files, Path target) throws IOException {
        List<Tensor> parts = files.stream().map(Npy::map).toList();
        long[] shape = parts.get(0).shape().clone();
        shape[0] = 0;
        for (Tensor t : parts) {
            if (t.rank() != shape.length || !Arrays.equals(Arrays.copyOfRange(t.shape(), 1, t.rank()), Arrays.copyOfRange(shape, 1, shape.length))) {
                throw new FormatException(target + ": unit files of different shapes (" + parts.get(0).shapeString() + ", " + t.shapeString() + ")");
            }
            shape[0] += t.dim(0);
        }
        AtomicFiles.write(target, o -> {
            o.write(Npy.header(parts.get(0).dtype(), shape));
            for (Tensor t : parts) SafeTensors.writeData(o, t);
        });
    }

    /** Deletes every unit of every config (with --force). */
    void clearUnits() throws IOException {
        Path dir = f("units");
        if (!Files.isDirectory(dir)) return;
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    /** The report settings: the config, the data set, the pipeline's own entries, then the versions. */
    Map<String, Object> settings(Map<String, Object> specific) {
        Map<String, Object> s = new LinkedHashMap<>(cfg.toMap());
        Dataset ds = dataset();
        s.put("dataset", ds.name());
        JsonNode prov = ds.metadata().path("provenance");
        if (!prov.isMissingNode()) s.put("dataset_provenance", prov);
        s.putAll(specific);
        String v = RunFolder.class.getPackage().getImplementationVersion();
        s.put("brain2img_version", v == null ? "dev" : v);
        s.put("java", Runtime.version().toString());
        return s;
    }
}
