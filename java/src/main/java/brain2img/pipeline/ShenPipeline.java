package brain2img.pipeline;

import brain2img.backend.Backend;
import brain2img.data.Averaged;
import brain2img.data.Dataset;
import brain2img.data.Split;
import brain2img.data.Trial;
import brain2img.dir.DeepSimGenerator;
import brain2img.dir.DirRun;
import brain2img.dir.FeatureLoss;
import brain2img.dir.PixelSpace;
import brain2img.dir.Reconstructor;
import brain2img.dir.StoredFeatures;
import brain2img.eval.Audit;
import brain2img.eval.AuditResult;
import brain2img.eval.NetSuite;
import brain2img.eval.Picture;
import brain2img.io.AtomicFiles;
import brain2img.io.Images;
import brain2img.io.Json;
import brain2img.io.Npy;
import brain2img.io.SafeTensors;
import brain2img.report.HtmlReport;
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
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Method 2, Shen et al. (2019), as the run's stages; everything under RUN/shen/, so it shares a run folder
 * with method 1 (RUN/run.json records the method last run):
 * <pre>
 * features/{train,test}/&lt;layer&gt;.npy, {train,test}_ids.npy   VGG19 features of the stimuli at dir_size²
 * models/{decoder,permuted_fit}/&lt;layer&gt;.*.npy, dir.json      feature decoders (DirRun) on single training trials
 * decoded/&lt;set&gt;/&lt;layer&gt;.npy                                   decoded (rescaled) test features, and every null's
 * recon/&lt;kind&gt;.npy (n,1,3,s,s) RGB in [0,1], recon/&lt;kind&gt;/&lt;id&gt;.png
 * metrics.json, per_image.csv, report.html
 * </pre>
 * Kinds: {@code X_dir} (the pixel optimiser from the decoded features) and, with a generator, {@code X_dir_dgn}
 * (the deepsim latent from the same features). The nulls keep method 1's names and go through X_dir's
 * optimiser with the same settings: {@code shuffled} (test responses deranged), {@code permuted_fit} (decoders
 * refit with the training images deranged), {@code train_mean} (the mean training feature of every unit),
 * {@code nearest_train} (the true features of the training image whose features correlate best with the decoded
 * ones, r averaged over layers) and {@code ceiling} (the test image's own features: a reference, not tested).
 * With a generator every null is also rendered as X_dir_dgn is, named {@code <null>_dgn} (same decoded set), and
 * X_dir_dgn is tested only against those, X_dir only against its own ({@link Audit.Group}).
 *
 * <p>The report also shows method 1 side by side when it has been evaluated in the same run folder: its
 * reconstructions are scored again with its own nulls, so each method is tested only against its own.
 */
public final class ShenPipeline implements Stages {
    /** The suffix of what the generator renders: X_dir_dgn and its nulls. */
    static final String DGN = "_dgn";
    public static final String X_DIR = "X_dir", X_DIR_DGN = X_DIR + DGN;
    /** The decoded-features set behind X_dir and X_dir_dgn. */
    static final String DECODED = "decoded";
    /** Test images per render unit (one optimiser batch). */
    static final int CHUNK = 8;
    /** Images per forward pass of the features stage. */
    static final int BATCH = 8;
    /** The top-voxels decoder's ridge penalty (the lab's α). */
    static final double TOP_VOXELS_ALPHA = 100;

    private final RunConfig cfg;
    private final Backend backend;
    private final Consumer<String> log;
    private final RunFolder run;  // RUN: run.json, and method 1's outputs for the side-by-side report
    private final RunFolder own;  // RUN/shen
    private final Stamps stamps;
    private final NetSuite.Loader nets;
    private Planner.Shard shard = Planner.Shard.ALL;
    private VisionNet net;        // opened by the first unit rendered, released by close()
    private AuditResult audit;
    private Map<String, Object> netSettings = Map.of();

    public ShenPipeline(RunConfig cfg, Backend backend, Consumer<String> log, NetSuite.Loader nets) {
        if (!cfg.method().shen()) throw new IllegalArgumentException("ShenPipeline runs --method shen, not " + cfg.method().name());
        if (cfg.weights() == null) throw new IllegalArgumentException("--weights W (the VGG19 weights) is required for --method shen");
        this.cfg = cfg;
        this.backend = backend;
        this.log = log;
        this.nets = nets;
        this.run = new RunFolder(cfg, log);
        this.own = new RunFolder(cfg.withOut(folder(cfg)), log);
        this.stamps = own.stamps;
    }

    /** RUN/shen: where this method's outputs go. */
    public static Path folder(RunConfig cfg) {
        return cfg.out().resolve("shen");
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
        stamps.clear();
        own.clearUnits();
    }

    @Override
    public void close() {
        if (net != null) net.close();
        net = null;
    }

    // ---------------------------------------------------------------- stages

    boolean features() throws IOException {
        String key = featuresKey();
        List<Path> outs = new ArrayList<>(List.of(own.f("features/train_ids.npy"), own.f("features/test_ids.npy")));
        for (String l : layers()) for (String split : List.of("train", "test")) outs.add(own.f("features/" + split + "/" + l + ".npy"));
        if (stamps.upToDate("features", key, outs.toArray(Path[]::new))) return false;
        Dataset ds = own.dataset();
        int[] trainIds = ds.imageIds(Split.TRAIN).stream().mapToInt(Integer::intValue).toArray();
        int[] testIds = ds.average(Split.TEST).imageIds();
        if (trainIds.length < 2 || testIds.length < 2) throw new IllegalArgumentException(ds.dir() + ": needs at least 2 training and 2 test images");
        VisionNet n = net();
        int side = side();
        log.accept("features: " + cfg.method().arch() + " at " + side + "², " + layers().size() + " layers");
        DirRun.extract(n, ds, trainIds, layers(), own.f("features/train"), side, BATCH, log);
        DirRun.extract(n, ds, testIds, layers(), own.f("features/test"), side, BATCH, log);
        Npy.write(own.f("features/train_ids.npy"), Tensor.ofInts(trainIds, trainIds.length));
        Npy.write(own.f("features/test_ids.npy"), Tensor.ofInts(testIds, testIds.length));
        stamps.write("features", key);
        return true;
    }

    boolean fit() throws IOException {
        String key = fitKey();
        Path real = own.f("models/decoder"), permuted = own.f("models/permuted_fit");
        if (stamps.upToDate("fit", key, real.resolve("dir.json"), permuted.resolve("dir.json"))) return false;
        Inputs in = inputs();
        log.accept(String.format(Locale.ROOT, "fit: %s decoders, %d training trials × %d voxels (%s), %d layers", cfg.method().decoder(),
                in.train().dim(0), in.train().dim(1), own.roiName(RunFolder.ALL_VOXELS), layers().size()));
        DirRun.Settings s = settings();
        DirRun.fitDecoders(s, own.f("features/train"), real, real.resolve("dir.json"), in.train(), in.pairs().targetRow(), in.groups(), layers(), log);
        log.accept("fit: permuted-fit null (training images deranged)");
        DirRun.fitDecoders(s, own.f("features/train"), permuted, permuted.resolve("dir.json"), in.train(), in.pairs().permutedRow(), in.groups(), layers(),
                m -> log.accept("(permuted) " + m));
        stamps.write("fit", key);
        return true;
    }

    boolean decode() throws IOException {
        String key = fitKey();
        List<Path> outs = new ArrayList<>();
        for (String set : decodedSets()) for (String l : layers()) outs.add(own.f("decoded/" + set + "/" + l + ".npy"));
        if (stamps.upToDate("decode", key, outs.toArray(Path[]::new))) return false;
        Inputs in = inputs();
        int[] testIds = testIds();
        Averaged avg = own.testAverage(testIds);
        int n = testIds.length;
        Tensor x = Rows.gather(avg.responses(), Rows.identity(n), in.voxels());
        Tensor xTrain = cfg.method().decoder().equals("ridgecv") ? in.train() : null; // the dual form predicts from the training responses
        DirRun.Settings s = settings();
        Path feats = own.f("features/train"), real = own.f("models/decoder"), permuted = own.f("models/permuted_fit");
        Consumer<String> quiet = m -> {};
        DirRun.decodeInto(feats, real, real.resolve("dir.json"), s, x, xTrain, in.pairs().targetRow(), own.f("decoded/" + DECODED), quiet);
        log.accept("decode: " + n + " test images from responses averaged over repetitions");
        int[] shuffle = Rows.derangement(n, cfg.seed() + 2);
        DirRun.decodeInto(feats, real, real.resolve("dir.json"), s, Rows.rows(x, shuffle), xTrain, in.pairs().targetRow(), own.f("decoded/shuffled"), quiet);
        DirRun.decodeInto(feats, permuted, permuted.resolve("dir.json"), s, x, xTrain, in.pairs().permutedRow(), own.f("decoded/permuted_fit"), quiet);
        StoredFeatures train = new StoredFeatures(feats, layers());
        int[] nearest = nearestRows(new StoredFeatures(own.f("decoded/" + DECODED), layers()), train);
        for (String l : layers()) {
            Tensor mean = Npy.read(real.resolve(l + ".train_mean.npy"));
            writeRows(own.f("decoded/train_mean/" + l + ".npy"), train.shape(l), i -> mean, n);
            Tensor all = train.tensor(l);
            writeRows(own.f("decoded/nearest_train/" + l + ".npy"), train.shape(l), i -> all.get(nearest[i]), n);
            writeRows(own.f("decoded/" + Pipeline.CEILING + "/" + l + ".npy"), train.shape(l), Npy.map(own.f("features/test/" + l + ".npy"))::get, n);
        }
        log.accept("decode: nulls " + String.join(", ", Pipeline.NULLS));
        stamps.write("decode", key);
        return true;
    }

    boolean render() throws IOException {
        String key = renderKey();
        List<String> kinds = kinds();
        if (stamps.upToDate("render", key, kinds.stream().map(k -> own.f("recon/" + k + ".npy")).toArray(Path[]::new))) return false;
        List<Planner.Unit> units = plan();
        Path dir = unitsDir();
        own.renderUnits(units, dir, shard, this::renderUnit);
        for (String kind : kinds) {
            RunFolder.concatenate(units.stream().filter(u -> u.kind().equals(kind)).map(u -> Planner.reconFile(dir, u)).toList(), own.f("recon/" + kind + ".npy"));
        }
        log.accept("render: " + kinds.size() + " sets of " + testIds().length + " reconstructions (" + units.size() + " units, "
                + cfg.method().optimizer() + " × " + cfg.method().iterations() + ")");
        stamps.write("render", key);
        return true;
    }

    @Override
    public List<Planner.Unit> plan() {
        List<String> kinds = kinds();
        int[] samples = new int[kinds.size()];
        Arrays.fill(samples, 1); // the optimisers are deterministic from the mean-grey start
        return Planner.plan(own.dataset().subject(), kinds, samples, testIds().length, CHUNK);
    }

    @Override
    public boolean done(Planner.Unit unit) {
        return Planner.done(unitsDir(), unit);
    }

    /** The unit's images optimised to match its set's features: (m,1,3,s,s) RGB in [0,1], and PNGs. */
    @Override
    public void renderUnit(Planner.Unit u, Runnable beforeDone) throws IOException {
        VisionNet n = net();
        int side = side(), m = u.images();
        String set = decodedSet(u.kind());
        Map<String, Tensor> targets = new LinkedHashMap<>();
        for (String l : layers()) targets.put(l, Npy.map(own.f("decoded/" + set + "/" + l + ".npy")).slice(u.first(), u.end()).toF32());
        FeatureLoss loss = new FeatureLoss(n, targets);
        RunConfig.Method mt = cfg.method();
        Reconstructor.Options opt = new Reconstructor.Options(mt.optimizer().equals("gd") ? Reconstructor.Method.GD : Reconstructor.Method.LBFGS,
                mt.iterations(), m, cfg.seed(), 0, Math.max(1, mt.iterations() / 4));
        Consumer<String> progress = s -> log.accept("render: " + u.kind() + " " + s);
        log.accept("render: " + u.kind() + " test images " + u.first() + ".." + (u.end() - 1));
        Tensor x;
        if (throughGenerator(u.kind())) {
            try (DeepSimGenerator g = new DeepSimGenerator(mt.generator(), backend)) {
                x = new Reconstructor(n, loss, opt, progress, g, latentUpper(g.latent())).run(side, null);
            }
        } else {
            x = new Reconstructor(n, loss, opt, progress).run(side, null);
        }
        int plane = side * side;
        float[] rgb = PixelSpace.rgb01(n.inputSpace(), x.toFloatArray(), plane);
        int[] ids = testIds();
        for (int i = 0; i < m; i++) {
            float[] img = new float[3 * plane];
            for (int j = 0; j < img.length; j++) img[j] = 2 * rgb[i * 3 * plane + j] - 1; // Images wants [-1,1]
            Images.write(own.f("recon/" + u.kind() + "/" + ids[u.first() + i] + ".png"), Tensor.of(img, 3, side, side));
        }
        beforeDone.run();
        Npy.write(Planner.reconFile(unitsDir(), u), Tensor.of(rgb, m, 1, 3, side, side));
    }

    @Override
    public void shard(Planner.Shard s) {
        this.shard = s;
    }

    boolean evaluate() throws IOException {
        String key = evaluateKey();
        Path metrics = own.f("metrics.json"), csv = own.f("per_image.csv");
        if (stamps.upToDate("evaluate", key, metrics, csv)) return false;
        AuditResult r = score();
        r.writeMetricsJson(metrics, reportSettings());
        r.writePerImageCsv(csv, testIds());
        for (String kind : renderers()) {
            // each kind beside the shuffled null its own renderer made (X_dir_dgn's is shuffled_dgn)
            AuditResult.Summary pc = r.summary(kind, "pixcorr"), tw = r.summary(kind, "twoway_pixel");
            String shuffled = "nulls.shuffled" + (throughGenerator(kind) ? DGN : "");
            log.accept(String.format(Locale.ROOT, "evaluate: %s PixCorr %.3f [%.3f, %.3f], two-way %.3f [%.3f, %.3f]; %s two-way %.3f",
                    kind, pc.mean(), pc.interval().low(), pc.interval().high(), tw.mean(), tw.interval().low(), tw.interval().high(),
                    shuffled.substring("nulls.".length()), r.summary(shuffled, "twoway_pixel").mean()));
        }
        stamps.write("evaluate", key);
        return true;
    }

    boolean report() throws IOException {
        Path method1 = run.f("metrics.json");
        // method 1's metrics.json enters the key: a method 1 run after this report makes it stale
        String key = evaluateKey() + "method1=" + (Files.isRegularFile(method1) ? Files.getLastModifiedTime(method1).toMillis() : 0) + ";";
        Path file = own.f("report.html");
        if (stamps.upToDate("report", key, file)) return false;
        AuditResult r = audit != null ? audit : score();
        int[] ids = testIds();
        HtmlReport rep = new HtmlReport("brain2img run (Shen et al. 2019): " + own.dataset().name()).groundTruth(own.pictures(ids), ids);
        Method1 other = Files.isRegularFile(method1) ? method1(ids) : null;
        String label = other == null ? null : RunConfig.Method.SHEN;
        for (String k : kinds()) rep.column(isNull(k) ? prefix(label, "null: " + k) : prefix(label, k), own.recon(k));
        if (other != null) {
            for (String k : other.kinds()) rep.column(prefix(RunConfig.Method.TAKAGI, k), run.recon(k));
            for (String k : other.nulls()) rep.column(prefix(RunConfig.Method.TAKAGI, "null: " + k), run.recon(k));
            rep.audit(RunConfig.Method.SHEN, r).audit(RunConfig.Method.TAKAGI, other.audit());
            log.accept("report: with method 1 (" + String.join(", ", other.kinds()) + ") from " + method1);
        } else {
            rep.audit(r);
        }
        rep.settings(reportSettings()).write(file);
        log.accept("report: " + file);
        stamps.write("report", key);
        return true;
    }

    // ---------------------------------------------------------------- evaluation

    private AuditResult score() throws IOException {
        int[] testIds = testIds(), trainIds = Npy.read(own.f("features/train_ids.npy")).toIntArray();
        Picture[] truth = own.pictures(testIds);
        Audit a = own.audit(truth, Map.of(), trainIds);
        try (NetSuite suite = own.netSuite(backend, nets, truth, testIds, trainIds)) {
            // each renderer's kind against the nulls it rendered: X_dir against the pixel optimiser's, X_dir_dgn the generator's
            List<Audit.Group> groups = new ArrayList<>();
            int entries = 0;
            for (String kind : renderers()) {
                List<Audit.Entry> nulls = new ArrayList<>();
                for (String nl : nullsOf(kind)) nulls.add(own.entry(nl, Map.of(), suite));
                groups.add(new Audit.Group(List.of(own.entry(kind, Map.of(), suite)), nulls));
                entries += 1 + nulls.size();
            }
            log.accept("evaluate: scoring " + truth.length + " test images: " + entries + " kinds and nulls, " + groups.size() + " renderer(s)");
            audit = a.run(groups, List.of(Pipeline.CEILING, Pipeline.CEILING + DGN));
            netSettings = RunFolder.netSettings(suite);
        }
        return audit;
    }

    /** Method 1's kinds and nulls as its metrics.json names them, scored again from RUN/recon against its own nulls. */
    private record Method1(List<String> kinds, List<String> nulls, AuditResult audit) {}

    private Method1 method1(int[] testIds) throws IOException {
        JsonNode m = Json.read(run.f("metrics.json"));
        List<String> kinds = new ArrayList<>(), nulls = new ArrayList<>();
        for (Iterator<String> it = m.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals("nulls") && !k.equals("settings") && !k.equals("optimistic_best_of_k")) kinds.add(k);
        }
        m.path("nulls").fieldNames().forEachRemaining(nulls::add);
        Picture[] truth = run.pictures(testIds);
        int[] trainIds = Npy.read(own.f("features/train_ids.npy")).toIntArray();
        Audit a = run.audit(truth, Map.of(), trainIds);
        try (NetSuite suite = own.netSuite(backend, nets, truth, testIds, trainIds)) {
            List<Audit.Entry> k = new ArrayList<>(), nl = new ArrayList<>();
            for (String name : kinds) k.add(run.entry(name, Map.of(), suite));
            for (String name : nulls) nl.add(run.entry(name, Map.of(), suite));
            return new Method1(kinds, nulls, a.run(k, nl, List.of(Pipeline.CEILING)));
        }
    }

    private static String prefix(String label, String column) {
        return label == null ? column : label + ": " + column;
    }

    private Map<String, Object> reportSettings() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("method", "Shen et al. 2019: VGG19 features decoded from voxels, images optimised to match them");
        s.put("roi_used", own.roiName(RunFolder.ALL_VOXELS));
        s.put("layers", layers());
        s.put("image_side", side());
        s.put("renderers", "X_dir: " + cfg.method().optimizer() + " on pixels, " + cfg.method().iterations() + " iterations, from mean grey"
                + (cfg.method().generator() == null ? "" : "; X_dir_dgn: the deepsim generator's latent from z0 = 0, same iterations"));
        s.put("nulls", "each through X_dir's optimiser" + (cfg.method().generator() == null ? "" : " and, named <null>_dgn, through X_dir_dgn's")
                + ", each renderer's kind tested only against its own: shuffled: test responses deranged; permuted_fit: decoders refit with training images deranged; "
                + "train_mean: mean training features; nearest_train: true features of the training image whose features correlate best with the decoded "
                + "(r averaged over layers); ceiling: the test image's own features (not tested)");
        s.putAll(netSettings);
        return own.settings(s);
    }

    // ---------------------------------------------------------------- pieces

    /** Training responses (trials, voxels) of the decoder's voxels, their pairing with the training images, and the CV groups. */
    private record Inputs(RunFolder.TrainingPairs pairs, int[] voxels, Tensor train, int[] groups) {}

    private Inputs inputs() {
        RunFolder.TrainingPairs pairs = own.trainingPairs(Npy.read(own.f("features/train_ids.npy")).toIntArray());
        int[] vox = own.voxels(own.roiName(RunFolder.ALL_VOXELS));
        return new Inputs(pairs, vox, pairs.responses(own.dataset(), vox), pairs.trials().stream().mapToInt(Trial::imageId).toArray());
    }

    private DirRun.Settings settings() {
        String roi = own.roiName(RunFolder.ALL_VOXELS);
        RunConfig.Method m = cfg.method();
        return new DirRun.Settings(cfg.data(), m.arch(), cfg.weights(), layers(), m.decoder(), roi.equals(RunFolder.ALL_VOXELS) ? null : roi,
                m.voxels(), TOP_VOXELS_ALPHA, cfg.alphas(), cfg.folds(), BATCH);
    }

    /** The render stage's kinds, in plan order: each renderer's kind (X_dir, X_dir_dgn with a generator), then each one's nulls. */
    private List<String> kinds() {
        List<String> k = new ArrayList<>(renderers());
        for (String r : renderers()) k.addAll(nullsOf(r));
        return k;
    }

    /** X_dir, and X_dir_dgn with a generator. */
    private List<String> renderers() {
        return cfg.method().generator() == null ? List.of(X_DIR) : List.of(X_DIR, X_DIR_DGN);
    }

    /** The nulls rendered as {@code kind} is: method 1's names for X_dir's, suffixed {@code _dgn} for X_dir_dgn's. */
    private static List<String> nullsOf(String kind) {
        return Pipeline.NULLS.stream().map(n -> throughGenerator(kind) ? n + DGN : n).toList();
    }

    /** Whether the generator renders this kind (X_dir_dgn and its nulls) rather than the pixel optimiser. */
    private static boolean throughGenerator(String kind) {
        return kind.endsWith(DGN);
    }

    /** decoded/&lt;set&gt; holding a kind's target features: X_dir's and X_dir_dgn's the decoded ones, a null's its own whichever renders it. */
    private static String decodedSet(String kind) {
        String base = throughGenerator(kind) ? kind.substring(0, kind.length() - DGN.length()) : kind;
        return base.equals(X_DIR) ? DECODED : base;
    }

    private static boolean isNull(String kind) {
        return !decodedSet(kind).equals(DECODED);
    }

    private static List<String> decodedSets() {
        List<String> s = new ArrayList<>(List.of(DECODED));
        s.addAll(Pipeline.NULLS);
        return s;
    }

    private List<String> layers() {
        return cfg.method().layers() != null ? cfg.method().layers() : DirRun.defaultLayers(cfg.method().arch());
    }

    private VisionNet net() {
        if (net == null) net = VisionNets.open(cfg.method().arch(), cfg.weights(), null, backend);
        return net;
    }

    private int side() {
        return cfg.method().size() > 0 ? cfg.method().size() : net().inputSpace().size();
    }

    private int[] testIds() {
        return Npy.read(own.f("features/test_ids.npy")).toIntArray();
    }

    /** The generator's latent bound per unit: the largest ReLU(fc7) over the training images (the lab's range of fc7). */
    private float[] latentUpper(int latent) {
        String fc7 = cfg.method().arch().equals("vgg19-caffe") ? "fc7" : "classifier.3";
        if (!layers().contains(fc7)) throw new IllegalArgumentException("--generator needs " + fc7 + " among the layers (its range bounds the latent)");
        Tensor t = Npy.map(own.f("features/train/" + fc7 + ".npy"));
        int units = t.dimInt(1);
        if (units != latent) throw new IllegalArgumentException(fc7 + " has " + units + " units, the generator's latent " + latent);
        float[] v = t.toFloatArray(), ub = new float[units];
        for (int i = 0; i < v.length; i++) ub[i % units] = Math.max(ub[i % units], v[i]); // ReLU: the bound is ≥ 0
        return ub;
    }

    /** Writes n rows, row i = {@code row.apply(i)} of the given per-image shape, streamed (one row in memory at a time). */
    private static void writeRows(Path file, long[] shape, java.util.function.IntFunction<Tensor> row, int n) throws IOException {
        long[] full = new long[shape.length + 1];
        full[0] = n;
        System.arraycopy(shape, 0, full, 1, shape.length);
        AtomicFiles.write(file, o -> {
            o.write(Npy.header(DType.F32, full));
            for (int i = 0; i < n; i++) SafeTensors.writeData(o, row.apply(i).toF32());
        });
    }

    /**
     * For each decoded image, the training image whose features correlate best with its decoded ones (Pearson r
     * per layer, averaged over layers), streamed over blocks of units so no layer is held whole.
     */
    static int[] nearestRows(StoredFeatures decoded, StoredFeatures train) {
        int n = decoded.images(), t = train.images();
        double[][] meanR = new double[n][t];
        for (String l : decoded.layers()) {
            long units = decoded.units(l);
            double[][] cross = new double[n][t];
            double[] sa = new double[n], saa = new double[n], sb = new double[t], sbb = new double[t];
            int block = 4096;
            for (long u0 = 0; u0 < units; u0 += block) {
                int w = (int) Math.min(block, units - u0);
                float[] a = decoded.block(l, u0, u0 + w), b = train.block(l, u0, u0 + w);
                for (int i = 0; i < n; i++) for (int j = 0; j < w; j++) { sa[i] += a[i * w + j]; saa[i] += (double) a[i * w + j] * a[i * w + j]; }
                for (int k = 0; k < t; k++) for (int j = 0; j < w; j++) { sb[k] += b[k * w + j]; sbb[k] += (double) b[k * w + j] * b[k * w + j]; }
                for (int i = 0; i < n; i++) for (int k = 0; k < t; k++) {
                    double acc = 0;
                    for (int j = 0; j < w; j++) acc += (double) a[i * w + j] * b[k * w + j];
                    cross[i][k] += acc;
                }
            }
            for (int i = 0; i < n; i++) for (int k = 0; k < t; k++) {
                double va = saa[i] - sa[i] * sa[i] / units, vb = sbb[k] - sb[k] * sb[k] / units;
                double r = va > 0 && vb > 0 ? (cross[i][k] - sa[i] * sb[k] / units) / Math.sqrt(va * vb) : 0;
                meanR[i][k] += r / decoded.layers().size();
            }
        }
        int[] best = new int[n];
        for (int i = 0; i < n; i++) for (int k = 1; k < t; k++) if (meanR[i][k] > meanR[i][best[i]]) best[i] = k;
        return best;
    }

    private Path unitsDir() {
        return Planner.unitsDir(own.f(""), renderKey());
    }

    private String featuresKey() {
        return own.featuresKey("data", "method", "arch", "weights", "layers", "dir_size");
    }

    private String fitKey() {
        return featuresKey() + cfg.key("roi", "decoder", "dir_voxels", "alphas", "folds", "seed");
    }

    private String renderKey() {
        return fitKey() + cfg.key("generator", "optimizer", "iterations");
    }

    private String evaluateKey() {
        return renderKey() + cfg.key("bootstrap", "permutations", "pixel_space", "nets");
    }
}
