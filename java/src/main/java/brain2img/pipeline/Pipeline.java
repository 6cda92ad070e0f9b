package brain2img.pipeline;

import brain2img.backend.Backend;
import brain2img.data.Averaged;
import brain2img.data.Dataset;
import brain2img.data.Split;
import brain2img.eval.Audit;
import brain2img.eval.AuditResult;
import brain2img.eval.NetSuite;
import brain2img.eval.Picture;
import brain2img.eval.Stats;
import brain2img.io.Images;
import brain2img.io.Npy;
import brain2img.report.HtmlReport;
import brain2img.ridge.RidgeCV;
import brain2img.ridge.RidgeModel;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The reconstruction pipeline for pixel targets, one resumable stage at a time, all under the run folder:
 * <pre>
 * features/pixels/{train,test}.npy, {train,test}_ids.npy   targets: stimuli resized to the pixel size (images × C·h·w)
 * models/pixels.safetensors, models/permuted_fit.safetensors  ridge on single training trials, grouped CV by image
 * decoded/&lt;name&gt;.npy                                       test predictions of the decoder and of every null
 * recon/&lt;name&gt;.npy (n,K,C,h,w) and recon/&lt;name&gt;/&lt;id&gt;.png   reconstructions in [0,1]
 * metrics.json, per_image.csv, report.html
 * </pre>
 * A stage is skipped when its stamp ({@code stamps/<stage>.json}) records the same inputs and its outputs
 * exist; every file is written atomically, so an interrupted run resumes where it stopped.
 *
 * <p>Nulls, all through the identical decode → render → evaluate path: {@code shuffled} (test responses
 * assigned to the wrong images by a seeded derangement), {@code permuted_fit} (the decoder refit on training
 * pairs whose images were deranged), {@code train_mean} (the mean training target for every image),
 * {@code nearest_train} (the training image whose target correlates best with the decoded one) and
 * {@code ceiling} (the ground truth through the same target representation: an upper bound, not tested).
 */
public final class Pipeline implements Stages {

    public static final String KIND = "pixels";
    public static final List<String> NULLS = List.of("shuffled", "permuted_fit", "train_mean", "nearest_train", "ceiling");
    static final String CEILING = "ceiling";
    static final int MAX_PIXEL_SIDE = 32;
    /** The ROI the decoder reads where --roi is not given and the data set has it (else all voxels). */
    static final String ROI = "early";

    /** Test images per unit of the render stage. */
    static final int CHUNK = 16;

    private final RunConfig cfg;
    private final Backend backend;
    private final Consumer<String> log;
    private final RunFolder run;
    private Planner.Shard shard = Planner.Shard.ALL;
    private final NetSuite.Loader nets;
    private AuditResult audit;
    private Map<String, Object> netSettings = Map.of();

    public Pipeline(RunConfig cfg, Backend backend, Consumer<String> log) {
        this(cfg, backend, log, null);
    }

    /** @param nets opens the metric networks of {@code --nets} (null: a run without --nets) */
    public Pipeline(RunConfig cfg, Backend backend, Consumer<String> log, NetSuite.Loader nets) {
        this.nets = nets;
        this.run = new RunFolder(cfg, log);
        if (!cfg.targets().equals("pixels")) throw new IllegalArgumentException("Pipeline runs pixel targets, not " + cfg.targets());
        this.cfg = cfg;
        this.backend = backend;
        this.log = log;
    }

    @Override
    public boolean through(Stage last) throws IOException {
        return run.through(last, this::features, this::fit, this::decode, this::render, this::evaluate, this::report);
    }

    @Override
    public AuditResult audit() {
        return audit;
    }

    @Override
    public void invalidate() throws IOException {
        run.stamps.clear();
        run.clearUnits();
    }

    // ---------------------------------------------------------------- stages

    boolean features() throws IOException {
        Dataset ds = run.dataset();
        String key = featuresKey();
        Path dir = run.f("features/pixels");
        if (upToDate("features", key, dir.resolve("train.npy"), dir.resolve("test.npy"), dir.resolve("train_ids.npy"), dir.resolve("test_ids.npy"))) return false;
        int[] size = targetSize(ds);
        for (Split split : Split.values()) {
            List<Integer> ids = ds.imageIds(split);
            if (ids.isEmpty()) throw new IllegalArgumentException(ds.dir() + ": no " + split.lower() + " images");
            int d = size[0] * size[1] * size[2];
            float[] y = new float[ids.size() * d];
            for (int i = 0; i < ids.size(); i++) {
                double[] v = Picture.of(ds.stimulus(ids.get(i))).resize(size[1], size[2]).data();
                for (int j = 0; j < d; j++) y[i * d + j] = (float) v[j];
                if ((i + 1) % 500 == 0) log.accept("features: " + split.lower() + " " + (i + 1) + "/" + ids.size());
            }
            Npy.write(dir.resolve(split.lower() + ".npy"), Tensor.of(y, ids.size(), d));
            Npy.write(dir.resolve(split.lower() + "_ids.npy"), Tensor.ofInts(ids.stream().mapToInt(Integer::intValue).toArray(), ids.size()));
            log.accept("features: " + ids.size() + " " + split.lower() + " images → pixels " + size[0] + "×" + size[1] + "×" + size[2]);
        }
        stamp("features", key);
        return true;
    }

    boolean fit() throws IOException {
        String key = fitKey();
        Path real = run.f("models/pixels.safetensors"), permuted = run.f("models/permuted_fit.safetensors");
        if (upToDate("fit", key, real, permuted)) return false;
        Dataset ds = run.dataset();
        Tensor targets = Npy.read(run.f("features/pixels/train.npy"));
        RunFolder.TrainingPairs pairs = run.trainingPairs(Npy.read(run.f("features/pixels/train_ids.npy")).toIntArray());
        String roi = run.roiName(ROI);
        int[] vox = run.voxels(roi);
        Tensor x = pairs.responses(ds, vox);
        log.accept("fit: " + pairs.trials().size() + " training trials × " + vox.length + " voxels (" + roi + ") → " + targets.dim(1) + " pixel targets");
        RidgeModel m = RidgeCV.fit(backend, x, Rows.rows(targets, pairs.targetRow()), pairs.options(), s -> log.accept("fit: " + s));
        m.putMetadata("roi", roi);
        m.putMetadata("targets", "pixels");
        m.save(real);
        log.accept("fit: median alpha " + Stats.median(m.alpha().toDoubleArray()));
        int[] permutedRow = pairs.permutedRow();
        log.accept("fit: permuted-fit null (training images deranged)");
        RidgeModel p = RidgeCV.fit(backend, x, Rows.rows(targets, permutedRow), pairs.options(), s -> log.accept("fit (permuted): " + s));
        p.putMetadata("roi", roi);
        p.putMetadata("targets", "pixels, training images deranged with seed " + pairs.permutationSeed());
        p.save(permuted);
        stamp("fit", key);
        return true;
    }

    boolean decode() throws IOException {
        String key = fitKey();
        List<String> names = new ArrayList<>(List.of(KIND));
        names.addAll(NULLS);
        Path dir = run.f("decoded");
        Path[] files = names.stream().map(n -> dir.resolve(n + ".npy")).toArray(Path[]::new);
        if (upToDate("decode", key, files)) return false;
        Tensor train = Npy.read(run.f("features/pixels/train.npy")), test = Npy.read(run.f("features/pixels/test.npy"));
        int[] testIds = Npy.read(run.f("features/pixels/test_ids.npy")).toIntArray();
        Averaged avg = run.testAverage(testIds);
        int[] vox = run.voxels(run.roiName(ROI));
        int n = testIds.length;
        Tensor x = Rows.gather(avg.responses(), Rows.identity(n), vox);
        RidgeModel model = RidgeModel.load(run.f("models/pixels.safetensors"));
        Tensor decoded = model.predict(x).to(DType.F32);
        Npy.write(dir.resolve(KIND + ".npy"), decoded);
        log.accept("decode: " + n + " test images from responses averaged over repetitions");
        int[] shuffle = Rows.derangement(n, cfg.seed() + 2);
        RunFolder.writeNulls(dir, model, run.f("models/permuted_fit.safetensors"), x, shuffle, train, test, Rows.nearestRows(decoded, train));
        log.accept("decode: nulls " + String.join(", ", NULLS));
        stamp("decode", key);
        return true;
    }

    boolean render() throws IOException {
        String key = fitKey();
        List<String> names = kinds();
        Path[] files = names.stream().map(nm -> run.f("recon/" + nm + ".npy")).toArray(Path[]::new);
        if (upToDate("render", key, files)) return false;
        if (cfg.samples() > 1) log.accept("render: pixel reconstructions are deterministic; 1 sample per image");
        List<Planner.Unit> units = plan();
        Path dir = unitsDir();
        run.renderUnits(units, dir, shard, this::renderUnit);
        for (String name : names) {
            RunFolder.concatenate(units.stream().filter(u -> u.kind().equals(name)).map(u -> Planner.reconFile(dir, u)).toList(),
                    run.f("recon/" + name + ".npy"));
        }
        log.accept("render: " + names.size() + " sets of " + units.stream().filter(u -> u.kind().equals(KIND)).mapToInt(Planner.Unit::images).sum()
                + " reconstructions (" + units.size() + " units)");
        stamp("render", key);
        return true;
    }

    @Override
    public List<Planner.Unit> plan() {
        int n = Npy.map(run.f("features/pixels/test_ids.npy")).dimInt(0);
        List<String> kinds = kinds();
        int[] samples = new int[kinds.size()];
        Arrays.fill(samples, 1); // pixel reconstructions are deterministic
        return Planner.plan(run.dataset().subject(), kinds, samples, n, CHUNK);
    }

    @Override
    public boolean done(Planner.Unit unit) {
        return Planner.done(unitsDir(), unit);
    }

    /** The decoded targets of the unit's images clamped to [0,1]: (m,1,C,h,w), and PNGs. */
    @Override
    public void renderUnit(Planner.Unit u, Runnable beforeDone) throws IOException {
        int[] size = targetSize(run.dataset());
        int[] testIds = Npy.read(run.f("features/pixels/test_ids.npy")).toIntArray();
        Tensor d = Npy.map(run.f("decoded/" + u.kind() + ".npy"));
        int dim = d.dimInt(1), m = u.images();
        float[] v = d.slice(u.first(), u.end()).toFloatArray();
        for (int i = 0; i < v.length; i++) v[i] = Math.max(0f, Math.min(1f, v[i]));
        for (int i = 0; i < m; i++) {
            float[] img = Arrays.copyOfRange(v, i * dim, (i + 1) * dim);
            for (int j = 0; j < img.length; j++) img[j] = 2 * img[j] - 1; // Images wants [-1,1]
            Images.write(run.f("recon/" + u.kind() + "/" + testIds[u.first() + i] + ".png"), Tensor.of(img, size[0], size[1], size[2]));
        }
        beforeDone.run();
        Npy.write(Planner.reconFile(unitsDir(), u), Tensor.of(v, m, 1, size[0], size[1], size[2]));
    }

    @Override
    public void shard(Planner.Shard s) {
        this.shard = s;
    }

    private Path unitsDir() {
        return Planner.unitsDir(run.f(""), fitKey());
    }

    private static List<String> kinds() {
        List<String> names = new ArrayList<>(List.of(KIND));
        names.addAll(NULLS);
        return names;
    }

    boolean evaluate() throws IOException {
        String key = evaluateKey();
        Path metrics = run.f("metrics.json"), csv = run.f("per_image.csv");
        if (upToDate("evaluate", key, metrics, csv)) return false;
        AuditResult r = score();
        r.writeMetricsJson(metrics, settings());
        r.writePerImageCsv(csv, Npy.read(run.f("features/pixels/test_ids.npy")).toIntArray());
        AuditResult.Summary pc = r.summary(KIND, "pixcorr"), tw = r.summary(KIND, "twoway_pixel");
        log.accept(String.format(Locale.ROOT, "evaluate: PixCorr %.3f [%.3f, %.3f], two-way %.3f [%.3f, %.3f]; shuffled null two-way %.3f",
                pc.mean(), pc.interval().low(), pc.interval().high(), tw.mean(), tw.interval().low(), tw.interval().high(),
                r.summary("nulls.shuffled", "twoway_pixel").mean()));
        stamp("evaluate", key);
        return true;
    }

    boolean report() throws IOException {
        String key = evaluateKey();
        Path file = run.f("report.html");
        if (upToDate("report", key, file)) return false;
        AuditResult r = audit != null ? audit : score();
        int[] ids = Npy.read(run.f("features/pixels/test_ids.npy")).toIntArray();
        Picture[] truth = run.pictures(ids);
        HtmlReport rep = new HtmlReport("brain2img run: " + run.dataset().name()).groundTruth(truth, ids);
        rep.column(KIND, run.recon(KIND));
        for (String nl : NULLS) rep.column("null: " + nl, run.recon(nl));
        rep.audit(r).settings(settings()).write(file);
        log.accept("report: " + file);
        stamp("report", key);
        return true;
    }

    // ---------------------------------------------------------------- evaluation

    private AuditResult score() throws IOException {
        int[] testIds = Npy.read(run.f("features/pixels/test_ids.npy")).toIntArray(), trainIds = Npy.read(run.f("features/pixels/train_ids.npy")).toIntArray();
        Picture[] truth = run.pictures(testIds);
        Audit a = run.audit(truth, Map.of(), trainIds);
        try (NetSuite suite = run.netSuite(backend, nets, truth, testIds, trainIds)) {
            List<Audit.Entry> nulls = new ArrayList<>();
            for (String nl : NULLS) nulls.add(run.entry(nl, Map.of(), suite));
            log.accept("evaluate: scoring " + truth.length + " test images: " + KIND + " and " + NULLS.size() + " nulls");
            audit = a.run(List.of(run.entry(KIND, Map.of(), suite)), nulls, List.of(CEILING));
            netSettings = RunFolder.netSettings(suite);
        }
        return audit;
    }

    private Map<String, Object> settings() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("roi_used", run.roiName(ROI));
        int[] size = targetSize(run.dataset());
        s.put("pixel_targets", size[0] + "x" + size[1] + "x" + size[2]);
        s.put("decoder", "ridge (RidgeCV: z-scored voxels, intercept, alpha per target by " + cfg.folds() + "-fold CV grouped by image) on single training trials; test responses averaged over repetitions");
        s.put("nulls", "shuffled: test responses deranged; permuted_fit: decoder refit with training images deranged; train_mean: mean training target; "
                + "nearest_train: training image most correlated with the decoded target; ceiling: ground truth through the target representation (not tested)");
        s.putAll(netSettings);
        return run.settings(s);
    }

    // ---------------------------------------------------------------- helpers

    private String featuresKey() {
        return run.featuresKey("data", "targets", "pixel_size");
    }

    private String fitKey() {
        return featuresKey() + cfg.key("roi", "alphas", "folds", "seed");
    }

    private String evaluateKey() {
        return fitKey() + cfg.key("bootstrap", "permutations", "pixel_space", "nets");
    }

    /** {C, h, w} of the pixel targets: the short side becomes the pixel size (default: stimulus side, at most 32). */
    private int[] targetSize(Dataset ds) {
        return pixelTargetSize(ds, cfg);
    }

    /** {C, h, w} of a pixel run's targets for this data set and config (what {@code features} resized the stimuli to). */
    public static int[] pixelTargetSize(Dataset ds, RunConfig cfg) {
        int[] chw = ds.imageSize();
        int shortSide = Math.min(chw[1], chw[2]);
        int s = cfg.pixelSize() > 0 ? cfg.pixelSize() : Math.min(shortSide, MAX_PIXEL_SIDE);
        return new int[]{chw[0], (int) Math.round((double) s * chw[1] / shortSide), (int) Math.round((double) s * chw[2] / shortSide)};
    }

    private boolean upToDate(String stage, String key, Path... outputs) {
        return run.stamps.upToDate(stage, key, outputs);
    }

    private void stamp(String stage, String key) throws IOException {
        run.stamps.write(stage, key);
    }
}
