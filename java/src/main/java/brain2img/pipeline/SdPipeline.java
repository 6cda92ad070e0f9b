package brain2img.pipeline;

import brain2img.backend.Backend;
import brain2img.data.Averaged;
import brain2img.data.Dataset;
import brain2img.data.Split;
import brain2img.eval.Audit;
import brain2img.eval.AuditResult;
import brain2img.eval.NetSuite;
import brain2img.eval.Picture;
import brain2img.io.Images;
import brain2img.io.Npy;
import brain2img.report.HtmlReport;
import brain2img.ridge.RidgeCV;
import brain2img.ridge.RidgeModel;
import brain2img.ridge.RidgeOptions;
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
 * Takagi &amp; Nishimoto's path (targets z,c): ridge from early voxels to the VAE latent z and from ventral
 * voxels to the CLIP text conditioning c (averaged over an image's captions), then three renderings:
 * X_z (VAE decoding of decoded z), X_c (text-to-image from decoded c) and X_zc (img2img from X_z conditioned on
 * decoded c: strength, DDIM steps, guidance from the config, unconditional = empty prompt), K samples with
 * seeds seed…seed+K−1. Run-folder layout as in {@link Pipeline}, with features/{z,c}, models/{z,c}*,
 * decoded/{z,c}/ and recon/X_*.npy (plus recon/&lt;name&gt;.z.npy: the VAE latents of every reconstruction,
 * the "z" feature space of the audit).
 *
 * <p>The nulls get (z, c) pairs through the identical X_zc renderer: shuffled test responses, the
 * permuted-fit decoders, the training means, the nearest training image by decoded z (its true z and c), and
 * the ceiling (the test image's own z and c); caption-only sends the image's own captions (its true c)
 * through text-to-image, X_c's renderer.
 */
public final class SdPipeline implements Stages {
    public static final List<String> KINDS = List.of("X_z", "X_c", "X_zc");
    /** The pixel nulls plus caption-only: the image's true captions (its ceiling c) straight into text-to-image. */
    public static final List<String> NULLS = java.util.stream.Stream.concat(Pipeline.NULLS.stream(), java.util.stream.Stream.of("caption_only")).toList();
    static final String CAPTION_ONLY = "caption_only";
    static final String DECODED = "decoded";
    static final List<String> TARGETS = List.of("z", "c");
    static final int BATCH = 8;

    private final RunConfig cfg;
    private final Backend backend;
    private final Consumer<String> log;
    private final RunFolder run;
    private final Stamps stamps;
    private Planner.Shard shard = Planner.Shard.ALL;
    private SdModels models;
    private final NetSuite.Loader nets;
    private AuditResult audit;
    private Map<String, Object> netSettings = Map.of();

    public SdPipeline(RunConfig cfg, Backend backend, Consumer<String> log) {
        this(cfg, backend, log, null);
    }

    /** @param nets opens the metric networks of {@code --nets} (null: a run without --nets) */
    public SdPipeline(RunConfig cfg, Backend backend, Consumer<String> log, NetSuite.Loader nets) {
        this.nets = nets;
        this.run = new RunFolder(cfg, log);
        if (!cfg.targets().equals("z,c")) throw new IllegalArgumentException("SdPipeline runs targets z,c, not " + cfg.targets());
        if (cfg.weights() == null) throw new IllegalArgumentException("--targets z,c needs Stable Diffusion weights (--weights)");
        this.cfg = cfg;
        this.backend = backend;
        this.log = log;
        this.stamps = run.stamps;
    }

    @Override
    public boolean through(Stage last) throws IOException {
        return run.through(last, this::features, this::fit, this::decode, this::render, this::evaluate, this::report);
    }

    @Override
    public void invalidate() throws IOException {
        stamps.clear();
        run.clearUnits();
    }

    @Override
    public AuditResult audit() {
        return audit;
    }

    // ---------------------------------------------------------------- stages

    boolean features() throws IOException {
        Dataset ds = run.dataset();
        String key = featuresKey();
        if (stamps.upToDate("features", key, f("features/z/train.npy"), f("features/c/test.npy"), f("features/sd/test_ids.npy"))) return false;
        if (!ds.hasCaptions()) throw new IllegalArgumentException(ds.dir() + ": the c target needs captions, and this data set has none");
        try (SdModels sd = new SdModels(cfg.weights(), backend, cfg.sdSize())) {
            for (Split split : Split.values()) {
                List<Integer> ids = ds.imageIds(split);
                List<float[]> z = new ArrayList<>(), c = new ArrayList<>();
                for (int i0 = 0; i0 < ids.size(); i0 += BATCH) {
                    List<Integer> chunk = ids.subList(i0, Math.min(ids.size(), i0 + BATCH));
                    z.addAll(Arrays.asList(sd.encode(chunk.stream().map(id -> Picture.of(ds.stimulus(id))).toList())));
                    for (int id : chunk) {
                        List<String> caps = ds.captions(id);
                        if (caps.isEmpty()) throw new IllegalArgumentException(ds.dir() + ": image " + id + " has no captions (needed for c)");
                        c.add(sd.conditioning(caps));
                    }
                }
                Npy.write(f("features/z/" + split.lower() + ".npy"), Rows.matrix(z));
                Npy.write(f("features/c/" + split.lower() + ".npy"), Rows.matrix(c));
                Npy.write(f("features/sd/" + split.lower() + "_ids.npy"), Tensor.ofInts(ids.stream().mapToInt(Integer::intValue).toArray(), ids.size()));
                log.accept("features: " + ids.size() + " " + split.lower() + " images → z (" + z.get(0).length + " values, VAE mean at "
                        + cfg.sdSize() + " px) and c (" + c.get(0).length + " values, CLIP hidden states averaged over captions)");
            }
        }
        stamps.write("features", key);
        return true;
    }

    boolean fit() throws IOException {
        String key = fitKey();
        if (stamps.upToDate("fit", key, f("models/z.safetensors"), f("models/c.safetensors"), f("models/z.permuted_fit.safetensors"),
                f("models/c.permuted_fit.safetensors"))) return false;
        Dataset ds = run.dataset();
        RunFolder.TrainingPairs pairs = run.trainingPairs(Npy.read(f("features/sd/train_ids.npy")).toIntArray());
        int[] targetRow = pairs.targetRow(), permutedRow = pairs.permutedRow();
        RidgeOptions opt = pairs.options();
        for (String target : TARGETS) {
            String roi = roiName(target);
            int[] vox = run.voxels(roi);
            Tensor x = pairs.responses(ds, vox);
            Tensor y = Npy.read(f("features/" + target + "/train.npy"));
            log.accept("fit: " + target + " from " + vox.length + " voxels (" + roi + "), " + pairs.trials().size() + " trials → " + y.dim(1) + " targets");
            RidgeModel m = RidgeCV.fit(backend, x, Rows.rows(y, targetRow), opt, s -> log.accept("fit " + target + ": " + s));
            m.putMetadata("roi", roi);
            m.save(f("models/" + target + ".safetensors"));
            RidgeModel p = RidgeCV.fit(backend, x, Rows.rows(y, permutedRow), opt, s -> log.accept("fit " + target + " (permuted): " + s));
            p.putMetadata("roi", roi);
            p.putMetadata("targets", target + ", training images deranged with seed " + pairs.permutationSeed());
            p.save(f("models/" + target + ".permuted_fit.safetensors"));
        }
        stamps.write("fit", key);
        return true;
    }

    boolean decode() throws IOException {
        String key = fitKey();
        List<String> names = names();
        List<Path> files = new ArrayList<>();
        for (String t : TARGETS) for (String n : names) files.add(f("decoded/" + t + "/" + n + ".npy"));
        if (stamps.upToDate("decode", key, files.toArray(Path[]::new))) return false;
        int[] testIds = Npy.read(f("features/sd/test_ids.npy")).toIntArray();
        Averaged avg = run.testAverage(testIds);
        int n = testIds.length;
        int[] all = Rows.identity(n), shuffle = Rows.derangement(n, cfg.seed() + 2);
        int[] nearest = null;
        for (String t : TARGETS) { // z first: the nearest training image is chosen by decoded z
            Tensor x = Rows.gather(avg.responses(), all, run.voxels(roiName(t)));
            Tensor train = Npy.read(f("features/" + t + "/train.npy")), test = Npy.read(f("features/" + t + "/test.npy"));
            RidgeModel model = RidgeModel.load(f("models/" + t + ".safetensors"));
            Tensor decoded = model.predict(x).to(DType.F32);
            if (nearest == null) nearest = Rows.nearestRows(decoded, train);
            Path dir = f("decoded/" + t);
            Npy.write(dir.resolve(DECODED + ".npy"), decoded);
            RunFolder.writeNulls(dir, model, f("models/" + t + ".permuted_fit.safetensors"), x, shuffle, train, test, nearest);
        }
        log.accept("decode: z and c of " + n + " test images, and of the nulls " + String.join(", ", Pipeline.NULLS) + " (caption_only uses the ceiling's c)");
        stamps.write("decode", key);
        return true;
    }

    boolean render() throws IOException {
        String key = renderKey();
        List<String> sets = sets();
        if (stamps.upToDate("render", key, sets.stream().map(s -> f("recon/" + s + ".z.npy")).toArray(Path[]::new))) return false;
        List<Planner.Unit> units = plan();
        Path dir = unitsDir();
        try {
            run.renderUnits(units, dir, shard, this::renderUnit);
        } finally {
            close(); // the models are not needed by the later stages
        }
        for (String set : sets) {
            List<Planner.Unit> own = units.stream().filter(u -> u.kind().equals(set)).toList();
            RunFolder.concatenate(own.stream().map(u -> Planner.reconFile(dir, u)).toList(), f("recon/" + set + ".npy"));
            RunFolder.concatenate(own.stream().map(u -> Planner.latentFile(dir, u)).toList(), f("recon/" + set + ".z.npy"));
            int samples = own.get(0).samples();
            log.accept(String.format(Locale.ROOT, "render: %s, %d sample%s per image (seeds %d..%d)", set, samples, samples == 1 ? "" : "s",
                    cfg.seed(), cfg.seed() + samples - 1));
        }
        stamps.write("render", key);
        return true;
    }

    @Override
    public List<Planner.Unit> plan() {
        int n = Npy.map(f("features/sd/test_ids.npy")).dimInt(0);
        List<String> sets = sets();
        int[] samples = new int[sets.size()];
        for (int i = 0; i < samples.length; i++) samples[i] = sets.get(i).equals("X_z") ? 1 : cfg.samples(); // the VAE decoding is deterministic
        return Planner.plan(run.dataset().subject(), sets, samples, n, BATCH);
    }

    @Override
    public boolean done(Planner.Unit unit) {
        return Planner.done(unitsDir(), unit);
    }

    /**
     * One unit: its images' (z, c) through the set's renderer, sample s with seed seed+s (the same noise for
     * every image, whatever its chunk), then the VAE latents of every picture; PNGs of sample 0, then
     * the unit's .z.npy (m,K,dz) and last its .npy (m,K,3,S,S).
     */
    @Override
    public void renderUnit(Planner.Unit u, Runnable beforeDone) throws IOException {
        SdModels sd = models();
        String set = u.kind();
        String source = KINDS.contains(set) ? DECODED : set.equals(CAPTION_ONLY) ? Pipeline.CEILING : set;
        float[][] z = rows(f("decoded/z/" + source + ".npy"), u), c = rows(f("decoded/c/" + source + ".npy"), u);
        boolean img2img = !set.equals("X_z") && !set.equals("X_c") && !set.equals(CAPTION_ONLY);
        Tensor init = img2img ? sd.initLatent(z) : null;
        int m = u.images(), k = u.samples();
        Picture[][] pics = new Picture[m][k];
        float[][][] latents = new float[m][k][];
        for (int s = 0; s < k; s++) {
            long seed = cfg.seed() + s;
            Picture[] p = set.equals("X_z") ? sd.decode(z)
                    : img2img ? sd.imageToImage(init, c, seed, cfg.sdSteps(), cfg.guidance(), cfg.strength())
                    : sd.textToImage(c, seed, cfg.sdSteps(), cfg.guidance());
            float[][] zl = sd.encode(Arrays.asList(p));
            for (int i = 0; i < m; i++) {
                pics[i][s] = p[i];
                latents[i][s] = zl[i];
            }
        }
        int[] testIds = Npy.read(f("features/sd/test_ids.npy")).toIntArray();
        Picture p0 = pics[0][0];
        int d = p0.data().length, dz = latents[0][0].length;
        float[] img = new float[m * k * d], zs = new float[m * k * dz];
        for (int i = 0; i < m; i++) for (int s = 0; s < k; s++) {
            double[] v = pics[i][s].data();
            for (int j = 0; j < d; j++) img[(i * k + s) * d + j] = (float) v[j];
            System.arraycopy(latents[i][s], 0, zs, (i * k + s) * dz, dz);
        }
        for (int i = 0; i < m; i++) {
            float[] png = new float[d];
            double[] v = pics[i][0].data();
            for (int j = 0; j < d; j++) png[j] = (float) (2 * v[j] - 1);
            Images.write(f("recon/" + set + "/" + testIds[u.first() + i] + ".png"), Tensor.of(png, p0.channels(), p0.height(), p0.width()));
        }
        Path dir = unitsDir();
        Npy.write(Planner.latentFile(dir, u), Tensor.of(zs, m, k, dz));
        beforeDone.run();
        Npy.write(Planner.reconFile(dir, u), Tensor.of(img, m, k, p0.channels(), p0.height(), p0.width()));
    }

    @Override
    public void shard(Planner.Shard s) {
        this.shard = s;
    }

    /** Releases the Stable Diffusion weights (they are loaded again on the next unit). */
    @Override
    public void close() {
        if (models != null) {
            models.close();
            models = null;
        }
    }

    private SdModels models() {
        if (models == null) models = new SdModels(cfg.weights(), backend, cfg.sdSize());
        return models;
    }

    /** The unit's rows of a decoded (n, d) matrix. */
    private static float[][] rows(Path npy, Planner.Unit u) {
        Tensor t = Npy.map(npy);
        int d = t.dimInt(1);
        float[] all = t.slice(u.first(), u.end()).toFloatArray();
        float[][] r = new float[u.images()][];
        for (int i = 0; i < r.length; i++) r[i] = Arrays.copyOfRange(all, i * d, (i + 1) * d);
        return r;
    }

    private static List<String> sets() {
        List<String> sets = new ArrayList<>(KINDS);
        sets.addAll(NULLS);
        return sets;
    }

    private Path unitsDir() {
        return Planner.unitsDir(f(""), renderKey());
    }

    boolean evaluate() throws IOException {
        String key = evaluateKey();
        Path metrics = f("metrics.json"), csv = f("per_image.csv");
        if (stamps.upToDate("evaluate", key, metrics, csv)) return false;
        AuditResult r = score();
        r.writeMetricsJson(metrics, settings());
        r.writePerImageCsv(csv, Npy.read(f("features/sd/test_ids.npy")).toIntArray());
        for (String kind : KINDS) {
            AuditResult.Summary pc = r.summary(kind, "pixcorr"), tw = r.summary(kind, "twoway_pixel");
            log.accept(String.format(Locale.ROOT, "evaluate: %s PixCorr %.3f [%.3f, %.3f], two-way %.3f", kind, pc.mean(), pc.interval().low(),
                    pc.interval().high(), tw.mean()));
        }
        stamps.write("evaluate", key);
        return true;
    }

    boolean report() throws IOException {
        String key = evaluateKey();
        Path file = f("report.html");
        if (stamps.upToDate("report", key, file)) return false;
        AuditResult r = audit != null ? audit : score();
        int[] ids = Npy.read(f("features/sd/test_ids.npy")).toIntArray();
        HtmlReport rep = new HtmlReport("brain2img run (Stable Diffusion z,c): " + run.dataset().name()).groundTruth(run.pictures(ids), ids);
        for (String kind : KINDS) rep.column(kind, run.recon(kind));
        for (String nl : NULLS) rep.column("null: " + nl + (nl.equals(CAPTION_ONLY) ? " (X_c)" : " (X_zc)"), run.recon(nl));
        rep.audit(r).settings(settings()).write(file);
        log.accept("report: " + file);
        stamps.write("report", key);
        return true;
    }

    // ---------------------------------------------------------------- evaluation

    private AuditResult score() throws IOException {
        int[] ids = Npy.read(f("features/sd/test_ids.npy")).toIntArray(), trainIds = Npy.read(f("features/sd/train_ids.npy")).toIntArray();
        Picture[] truth = run.pictures(ids);
        Map<String, double[][]> truthFeatures = Map.of("z", Rows.toRows(Npy.read(f("features/z/test.npy"))), "c", Rows.toRows(Npy.read(f("features/c/test.npy"))));
        Audit a = run.audit(truth, truthFeatures, trainIds);
        try (NetSuite suite = run.netSuite(backend, nets, truth, ids, trainIds)) {
            List<Audit.Entry> kinds = new ArrayList<>(), nulls = new ArrayList<>();
            for (String kind : KINDS) kinds.add(entry(kind, suite));
            for (String nl : NULLS) nulls.add(entry(nl, suite));
            log.accept("evaluate: scoring " + truth.length + " test images: " + String.join(", ", KINDS) + " and " + nulls.size() + " nulls (rendered as X_zc; caption_only as X_c)");
            audit = a.run(kinds, nulls, List.of(Pipeline.CEILING));
            netSettings = RunFolder.netSettings(suite);
        }
        return audit;
    }

    /**
     * The audit entry of a rendered set: its VAE latents (space z) and, where the set was conditioned on a c, that
     * decoded c against the true captions' (space c: the CLIP text space; X_z uses no c, so it has none).
     */
    private Audit.Entry entry(String name, NetSuite suite) {
        Tensor z = Npy.read(f("recon/" + name + ".z.npy")); // (n,K,dz)
        int k = z.dimInt(1);
        Map<String, double[][][]> spaces = new LinkedHashMap<>();
        spaces.put("z", perSample(z));
        if (!name.equals("X_z")) {
            String source = KINDS.contains(name) ? DECODED : name.equals(CAPTION_ONLY) ? Pipeline.CEILING : name;
            double[][] c = Rows.toRows(Npy.read(f("decoded/c/" + source + ".npy")));
            double[][][] v = new double[c.length][k][];
            for (int i = 0; i < c.length; i++) java.util.Arrays.fill(v[i], c[i]); // the same c behind every sample
            spaces.put("c", v);
        }
        return run.entry(name, spaces, suite);
    }

    /** (n,K,d) → [n][K][d]. */
    private static double[][][] perSample(Tensor t) {
        int n = t.dimInt(0), k = t.dimInt(1), d = t.dimInt(2);
        double[] all = t.toDoubleArray();
        double[][][] v = new double[n][k][];
        for (int i = 0; i < n; i++) for (int s = 0; s < k; s++) v[i][s] = Arrays.copyOfRange(all, (i * k + s) * d, (i * k + s + 1) * d);
        return v;
    }

    private Map<String, Object> settings() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("roi_z", roiName("z"));
        s.put("roi_c", roiName("c"));
        s.put("renderers", "X_z: VAE decode of decoded z; X_c: txt2img from decoded c; X_zc: img2img from X_z (re-encoded) with decoded c, strength "
                + cfg.strength() + ", " + cfg.sdSteps() + " DDIM steps (diffusers convention), guidance " + cfg.guidance() + ", unconditional = empty prompt; "
                + "seeds " + cfg.seed() + ".." + (cfg.seed() + cfg.samples() - 1) + "; size " + cfg.sdSize());
        s.put("nulls", "each null's (z, c) through X_zc: shuffled test responses, permuted-fit decoders, training means, the nearest training image by decoded z, "
                + "ceiling = the test image's own z and c (not tested); caption_only = the image's own caption conditioning through X_c (text-to-image)");
        s.put("feature_space_z", "VAE posterior mean of each reconstruction at " + cfg.sdSize() + " px vs the ground truth's");
        s.put("feature_space_c", "CLIP text conditioning: the decoded c behind each set (X_c, X_zc, nulls; caption_only: the true c) vs the true captions' c");
        s.putAll(netSettings);
        return run.settings(s);
    }

    // ---------------------------------------------------------------- helpers

    private Path f(String relative) {
        return run.f(relative);
    }

    private List<String> names() {
        List<String> names = new ArrayList<>(List.of(DECODED));
        names.addAll(Pipeline.NULLS);
        return names;
    }

    private String featuresKey() {
        return run.featuresKey("data", "targets", "weights", "sd_size");
    }

    private String fitKey() {
        return featuresKey() + cfg.key("roi", "alphas", "folds", "seed");
    }

    private String renderKey() {
        return fitKey() + cfg.key("samples", "sd_steps", "guidance", "strength");
    }

    private String evaluateKey() {
        return renderKey() + cfg.key("bootstrap", "permutations", "pixel_space", "nets");
    }

    /** Takagi: z from early visual cortex, c from ventral; --roi overrides both; all voxels where absent. */
    private String roiName(String target) {
        return run.roiName(target.equals("z") ? "early" : "ventral");
    }
}
