package brain2img.pipeline;

import brain2img.backend.Backend;
import brain2img.data.Averaged;
import brain2img.data.Dataset;
import brain2img.data.Split;
import brain2img.data.Trial;
import brain2img.eval.Audit;
import brain2img.eval.AuditResult;
import brain2img.eval.Correlation;
import brain2img.eval.Picture;
import brain2img.io.Images;
import brain2img.io.Npy;
import brain2img.report.HtmlReport;
import brain2img.ridge.RidgeCV;
import brain2img.ridge.RidgeModel;
import brain2img.ridge.RidgeOptions;
import brain2img.tensor.Tensor;
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
import java.util.Random;
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

    private final RunConfig cfg;
    private final Backend backend;
    private final Consumer<String> log;
    private final Path out;
    private final Stamps stamps;
    private Dataset dataset;
    private AuditResult audit;

    public Pipeline(RunConfig cfg, Backend backend, Consumer<String> log) {
        if (cfg.out() == null) throw new IllegalArgumentException("no run folder (--out) given");
        if (!cfg.targets().equals("pixels")) throw new IllegalArgumentException("Pipeline runs pixel targets, not " + cfg.targets());
        this.cfg = cfg;
        this.backend = backend;
        this.log = log;
        this.out = cfg.out();
        this.stamps = new Stamps(out);
    }

    @Override
    public void through(Stage last) throws IOException {
        Files.createDirectories(out);
        cfg.write(out.resolve("run.json"));
        Stages.run(last, log, this::features, this::fit, this::decode, this::render, this::evaluate, this::report);
    }

    @Override
    public AuditResult audit() {
        return audit;
    }

    // ---------------------------------------------------------------- stages

    boolean features() throws IOException {
        Dataset ds = dataset();
        String key = featuresKey();
        Path dir = out.resolve("features/pixels");
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
        Path real = out.resolve("models/pixels.safetensors"), permuted = out.resolve("models/permuted_fit.safetensors");
        if (upToDate("fit", key, real, permuted)) return false;
        Dataset ds = dataset();
        Tensor targets = Npy.read(out.resolve("features/pixels/train.npy"));
        int[] ids = Npy.read(out.resolve("features/pixels/train_ids.npy")).toIntArray();
        Map<Integer, Integer> row = rowOf(ids);
        List<Trial> trials = ds.trials(Split.TRAIN);
        int[] vox = voxels(ds);
        Tensor x = gather(ds.responses(), trials.stream().mapToInt(Trial::index).toArray(), vox);
        int[] groups = trials.stream().mapToInt(Trial::imageId).toArray();
        int[] targetRow = new int[trials.size()];
        for (int t = 0; t < targetRow.length; t++) targetRow[t] = row.get(trials.get(t).imageId());
        RidgeOptions opt = RidgeOptions.defaults(cfg.alphas()).withFolds(cfg.folds()).withGroups(groups).withStandardize(true);
        log.accept("fit: " + trials.size() + " training trials × " + vox.length + " voxels (" + roiName(ds) + ") → " + targets.dim(1) + " pixel targets");
        RidgeModel m = RidgeCV.fit(backend, x, rows(targets, targetRow), opt, s -> log.accept("fit: " + s));
        m.putMetadata("roi", roiName(ds));
        m.putMetadata("targets", "pixels");
        m.save(real);
        log.accept("fit: median alpha " + median(m.alpha().toDoubleArray()));
        // the permuted-fit null: every training image's trials are paired with another image's targets
        int[] perm = derangement(ids.length, cfg.seed() + 1);
        int[] permutedRow = new int[targetRow.length];
        for (int t = 0; t < permutedRow.length; t++) permutedRow[t] = perm[targetRow[t]];
        log.accept("fit: permuted-fit null (training images deranged)");
        RidgeModel p = RidgeCV.fit(backend, x, rows(targets, permutedRow), opt, s -> log.accept("fit (permuted): " + s));
        p.putMetadata("roi", roiName(ds));
        p.putMetadata("targets", "pixels, training images deranged with seed " + (cfg.seed() + 1));
        p.save(permuted);
        stamp("fit", key);
        return true;
    }

    boolean decode() throws IOException {
        String key = fitKey();
        List<String> names = new ArrayList<>(List.of(KIND));
        names.addAll(NULLS);
        Path dir = out.resolve("decoded");
        Path[] files = names.stream().map(n -> dir.resolve(n + ".npy")).toArray(Path[]::new);
        if (upToDate("decode", key, files)) return false;
        Dataset ds = dataset();
        Tensor train = Npy.read(out.resolve("features/pixels/train.npy")), test = Npy.read(out.resolve("features/pixels/test.npy"));
        int[] testIds = Npy.read(out.resolve("features/pixels/test_ids.npy")).toIntArray();
        Averaged avg = ds.average(Split.TEST);
        if (!Arrays.equals(avg.imageIds(), testIds)) throw new IllegalStateException("test images of " + ds.dir() + " changed since the features stage; rerun with --force");
        int[] vox = voxels(ds);
        int n = testIds.length;
        int[] all = new int[n];
        Arrays.setAll(all, i -> i);
        Tensor x = gather(avg.responses(), all, vox);
        RidgeModel model = RidgeModel.load(out.resolve("models/pixels.safetensors"));
        Tensor decoded = model.predict(x).to(brain2img.tensor.DType.F32);
        Npy.write(dir.resolve(KIND + ".npy"), decoded);
        log.accept("decode: " + n + " test images from responses averaged over repetitions");
        int[] shuffle = derangement(n, cfg.seed() + 2);
        Npy.write(dir.resolve("shuffled.npy"), model.predict(rows(x, shuffle)).to(brain2img.tensor.DType.F32));
        Npy.write(dir.resolve("permuted_fit.npy"),
                RidgeModel.load(out.resolve("models/permuted_fit.safetensors")).predict(x).to(brain2img.tensor.DType.F32));
        Npy.write(dir.resolve("train_mean.npy"), rows(meanRow(train), new int[n]));
        int[] nearest = nearestRows(decoded, train);
        Npy.write(dir.resolve("nearest_train.npy"), rows(train, nearest));
        Npy.write(dir.resolve("ceiling.npy"), test);
        log.accept("decode: nulls " + String.join(", ", NULLS));
        stamp("decode", key);
        return true;
    }

    boolean render() throws IOException {
        String key = fitKey();
        List<String> names = new ArrayList<>(List.of(KIND));
        names.addAll(NULLS);
        Path[] files = names.stream().map(nm -> out.resolve("recon/" + nm + ".npy")).toArray(Path[]::new);
        if (upToDate("render", key, files)) return false;
        int[] size = targetSize(dataset());
        int[] testIds = Npy.read(out.resolve("features/pixels/test_ids.npy")).toIntArray();
        if (cfg.samples() > 1) log.accept("render: pixel reconstructions are deterministic; 1 sample per image");
        for (String name : names) {
            Tensor d = Npy.read(out.resolve("decoded/" + name + ".npy"));
            int n = d.dimInt(0), dim = d.dimInt(1);
            float[] v = d.toFloatArray();
            for (int i = 0; i < v.length; i++) v[i] = Math.max(0f, Math.min(1f, v[i]));
            Tensor recon = Tensor.of(v, n, 1, size[0], size[1], size[2]);
            Npy.write(out.resolve("recon/" + name + ".npy"), recon);
            for (int i = 0; i < n; i++) {
                float[] img = Arrays.copyOfRange(v, i * dim, (i + 1) * dim);
                for (int j = 0; j < img.length; j++) img[j] = 2 * img[j] - 1; // Images wants [-1,1]
                Images.write(out.resolve("recon/" + name + "/" + testIds[i] + ".png"), Tensor.of(img, size[0], size[1], size[2]));
            }
        }
        log.accept("render: " + names.size() + " sets of " + testIds.length + " reconstructions");
        stamp("render", key);
        return true;
    }

    boolean evaluate() throws IOException {
        String key = evaluateKey();
        Path metrics = out.resolve("metrics.json"), csv = out.resolve("per_image.csv");
        if (upToDate("evaluate", key, metrics, csv)) return false;
        AuditResult r = score();
        r.writeMetricsJson(metrics, settings());
        r.writePerImageCsv(csv, Npy.read(out.resolve("features/pixels/test_ids.npy")).toIntArray());
        AuditResult.Summary pc = r.summary(KIND, "pixcorr"), tw = r.summary(KIND, "twoway_pixel");
        log.accept(String.format(Locale.ROOT, "evaluate: PixCorr %.3f [%.3f, %.3f], two-way %.3f [%.3f, %.3f]; shuffled null two-way %.3f",
                pc.mean(), pc.interval().low(), pc.interval().high(), tw.mean(), tw.interval().low(), tw.interval().high(),
                r.summary("nulls.shuffled", "twoway_pixel").mean()));
        stamp("evaluate", key);
        return true;
    }

    boolean report() throws IOException {
        String key = evaluateKey();
        Path file = out.resolve("report.html");
        if (upToDate("report", key, file)) return false;
        AuditResult r = audit != null ? audit : score();
        Picture[] truth = truth();
        int[] ids = Npy.read(out.resolve("features/pixels/test_ids.npy")).toIntArray();
        HtmlReport rep = new HtmlReport("brain2img run: " + dataset().name()).groundTruth(truth, ids);
        rep.column(KIND, recon(KIND));
        for (String nl : NULLS) rep.column("null: " + nl, recon(nl));
        rep.audit(r).settings(settings()).write(file);
        log.accept("report: " + file);
        stamp("report", key);
        return true;
    }

    // ---------------------------------------------------------------- evaluation

    private AuditResult score() throws IOException {
        Picture[] truth = truth();
        int[] space = Audit.pixelSpaceSize(truth[0].height(), truth[0].width(), cfg.pixelSpace());
        int[] trainIds = Npy.read(out.resolve("features/pixels/train_ids.npy")).toIntArray();
        Picture[] training = new Picture[trainIds.length];
        for (int i = 0; i < training.length; i++) training[i] = Picture.of(dataset().stimulus(trainIds[i])).resize(space[0], space[1]);
        Audit a = new Audit(truth, Map.of(), training, new Audit.Options(cfg.bootstrap(), cfg.permutations(), cfg.seed(), cfg.pixelSpace()));
        List<Audit.Entry> nulls = new ArrayList<>();
        for (String nl : NULLS) nulls.add(new Audit.Entry(nl, recon(nl), Map.of()));
        log.accept("evaluate: scoring " + truth.length + " test images: " + KIND + " and " + NULLS.size() + " nulls");
        audit = a.run(List.of(new Audit.Entry(KIND, recon(KIND), Map.of())), nulls, List.of(CEILING));
        return audit;
    }

    private Picture[] truth() throws IOException {
        int[] ids = Npy.read(out.resolve("features/pixels/test_ids.npy")).toIntArray();
        Picture[] t = new Picture[ids.length];
        for (int i = 0; i < ids.length; i++) t[i] = Picture.of(dataset().stimulus(ids[i]));
        return t;
    }

    /** recon/&lt;name&gt;.npy (n,K,C,h,w) as pictures [n][K]. */
    private Picture[][] recon(String name) {
        Tensor r = Npy.read(out.resolve("recon/" + name + ".npy"));
        if (r.rank() != 5) throw new brain2img.io.FormatException(out.resolve("recon/" + name + ".npy") + ": expected (n,K,C,h,w), got " + r.shapeString());
        int n = r.dimInt(0), k = r.dimInt(1);
        Picture[][] p = new Picture[n][k];
        for (int i = 0; i < n; i++) for (int s = 0; s < k; s++) p[i][s] = Picture.of(r.get(i).get(s));
        return p;
    }

    private Map<String, Object> settings() {
        Map<String, Object> s = new LinkedHashMap<>(cfg.toMap());
        Dataset ds = dataset();
        s.put("dataset", ds.name());
        JsonNode prov = ds.metadata().path("provenance");
        if (!prov.isMissingNode()) s.put("dataset_provenance", prov);
        s.put("roi_used", roiName(ds));
        int[] size = targetSize(ds);
        s.put("pixel_targets", size[0] + "x" + size[1] + "x" + size[2]);
        s.put("decoder", "ridge (RidgeCV: z-scored voxels, intercept, alpha per target by " + cfg.folds() + "-fold CV grouped by image) on single training trials; test responses averaged over repetitions");
        s.put("nulls", "shuffled: test responses deranged; permuted_fit: decoder refit with training images deranged; train_mean: mean training target; "
                + "nearest_train: training image most correlated with the decoded target; ceiling: ground truth through the target representation (not tested)");
        String v = Pipeline.class.getPackage().getImplementationVersion();
        s.put("brain2img_version", v == null ? "dev" : v);
        s.put("java", Runtime.version().toString());
        return s;
    }

    // ---------------------------------------------------------------- helpers

    private Dataset dataset() {
        if (dataset == null) {
            if (cfg.data() == null) throw new IllegalArgumentException("no data set (--data) given");
            dataset = Dataset.open(cfg.data());
        }
        return dataset;
    }

    private String featuresKey() {
        Dataset ds = dataset();
        return cfg.key("data", "targets", "pixel_size") + "dataset=" + ds.name() + ";trials=" + ds.trials().size() + ";";
    }

    private String fitKey() {
        return featuresKey() + cfg.key("roi", "alphas", "folds", "seed");
    }

    private String evaluateKey() {
        return fitKey() + cfg.key("bootstrap", "permutations", "pixel_space");
    }

    /** {C, h, w} of the pixel targets: the short side becomes the pixel size (default: stimulus side, at most 32). */
    private int[] targetSize(Dataset ds) {
        int[] chw = ds.imageSize();
        int shortSide = Math.min(chw[1], chw[2]);
        int s = cfg.pixelSize() > 0 ? cfg.pixelSize() : Math.min(shortSide, MAX_PIXEL_SIDE);
        return new int[]{chw[0], (int) Math.round((double) s * chw[1] / shortSide), (int) Math.round((double) s * chw[2] / shortSide)};
    }

    private String roiName(Dataset ds) {
        if (cfg.roi() != null) return cfg.roi();
        return ds.roiNames().contains("early") ? "early" : "all voxels";
    }

    private int[] voxels(Dataset ds) {
        String roi = roiName(ds);
        if (roi.equals("all voxels")) {
            int[] all = new int[ds.voxels()];
            Arrays.setAll(all, i -> i);
            return all;
        }
        return ds.roi(roi);
    }

    private boolean upToDate(String stage, String key, Path... outputs) {
        return stamps.upToDate(stage, key, outputs);
    }

    private void stamp(String stage, String key) throws IOException {
        stamps.write(stage, key);
    }

    @Override
    public void invalidate() throws IOException {
        stamps.clear();
    }

    static Map<Integer, Integer> rowOf(int[] ids) {
        Map<Integer, Integer> m = new HashMap<>();
        for (int i = 0; i < ids.length; i++) m.put(ids[i], i);
        return m;
    }

    /** (rows.length, cols.length) f32 copy of m[rows][cols]; m may be a memory-mapped f32 matrix. */
    static Tensor gather(Tensor m, int[] rows, int[] cols) {
        int w = m.dimInt(1);
        float[] out = new float[rows.length * cols.length];
        float[] buf = new float[w];
        for (int r = 0; r < rows.length; r++) {
            if (m.dtype() == brain2img.tensor.DType.F32) {
                java.lang.foreign.MemorySegment.copy(m.segment(), Tensor.F32, (long) rows[r] * w * 4, buf, 0, w);
            } else {
                for (int c = 0; c < w; c++) buf[c] = m.getFloat((long) rows[r] * w + c);
            }
            for (int c = 0; c < cols.length; c++) out[r * cols.length + c] = buf[cols[c]];
        }
        return Tensor.of(out, rows.length, cols.length);
    }

    /** Rows of a 2-D tensor, in the given order (f32). */
    static Tensor rows(Tensor m, int[] idx) {
        int w = m.dimInt(1);
        float[] src = m.toFloatArray(), out = new float[idx.length * w];
        for (int i = 0; i < idx.length; i++) System.arraycopy(src, idx[i] * w, out, i * w, w);
        return Tensor.of(out, idx.length, w);
    }

    static Tensor meanRow(Tensor m) {
        int n = m.dimInt(0), w = m.dimInt(1);
        float[] src = m.toFloatArray();
        double[] acc = new double[w];
        for (int i = 0; i < n; i++) for (int j = 0; j < w; j++) acc[j] += src[i * w + j];
        float[] mean = new float[w];
        for (int j = 0; j < w; j++) mean[j] = (float) (acc[j] / n);
        return Tensor.of(mean, 1, w);
    }

    /** For each row of {@code decoded}, the row of {@code train} with the highest Pearson correlation. */
    static int[] nearestRows(Tensor decoded, Tensor train) {
        double[][] r = Correlation.matrix(toRows(decoded), toRows(train));
        int[] best = new int[r.length];
        for (int i = 0; i < r.length; i++) {
            for (int j = 1; j < r[i].length; j++) if (r[i][j] > r[i][best[i]]) best[i] = j;
        }
        return best;
    }

    static double[][] toRows(Tensor m) {
        int n = m.dimInt(0), w = m.dimInt(1);
        double[] all = m.toDoubleArray();
        double[][] rows = new double[n][];
        for (int i = 0; i < n; i++) rows[i] = Arrays.copyOfRange(all, i * w, (i + 1) * w);
        return rows;
    }

    /** A seeded random permutation without fixed points (Sattolo's algorithm: a single n-cycle). */
    static int[] derangement(int n, long seed) {
        if (n < 2) throw new IllegalArgumentException("a derangement needs at least 2 items, got " + n);
        int[] p = new int[n];
        Arrays.setAll(p, i -> i);
        Random rnd = new Random(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
