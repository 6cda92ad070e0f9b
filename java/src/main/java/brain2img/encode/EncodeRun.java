package brain2img.encode;

import brain2img.backend.Backend;
import brain2img.data.Averaged;
import brain2img.data.Dataset;
import brain2img.data.Nifti;
import brain2img.data.Split;
import brain2img.data.Trial;
import brain2img.data.VolumeGeometry;
import brain2img.eval.Stats;
import brain2img.io.AtomicFiles;
import brain2img.io.Json;
import brain2img.io.Npy;
import brain2img.ridge.DenseLinAlg;
import brain2img.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The encoding analysis of one data set: for every feature space a voxel-wise model ({@link EncodingModel}) fitted
 * on the training trials and tested on the test images averaged over their repetitions, per-voxel statistics
 * ({@link VoxelStats}), unique variance of z vs c and of each U-Net space vs z from banded joint models, the
 * winning space per voxel, ROI summaries and, where the data set has a volume geometry, NIfTI maps.
 *
 * <pre>
 * RUN/features/&lt;space&gt;/{train,test}.npy      cached features ({@link FeatureStore})
 * RUN/maps/&lt;space&gt;.npy                       float32 (voxels, 5): r, r2, p, q, nc_r  (voxels = the selected ones, in order)
 * RUN/maps/unique/&lt;A&gt;+&lt;B&gt;.npy              float32 (voxels, 4): r2 of the joint model, unique A = r2(A+B) − r2(B),
 *                                             unique B = r2(A+B) − r2(A), the chosen band ratio w_A/w_B
 * RUN/maps/winner.npy                         int32 (voxels): index of the space with the highest r among those
 *                                             significant at q ≤ 0.05 for that voxel, −1 where none is
 * RUN/maps/voxels.npy                         int32: the data set's voxel index of each row
 * RUN/nifti/&lt;space&gt;.nii.gz                   (X,Y,Z,5) float32 in the subject's grid, 0 outside the voxels
 * RUN/nifti/winner.nii.gz, unique_&lt;A&gt;+&lt;B&gt;.nii.gz
 * RUN/roi_summary.csv                         roi,space,voxels,median_r,fraction_significant,median_nc_r
 * RUN/encode.json                             spaces, files, columns, settings, counts
 * </pre>
 */
public final class EncodeRun {
    public static final List<String> COLUMNS = List.of("r", "r2", "p", "q", "nc_r");
    public static final double Q = 0.05;

    /**
     * @param spaces       the feature spaces, in order
     * @param rois         restrict the analysis to the union of these ROIs (empty: every voxel)
     * @param permutations 0: analytic t-test p-values; &gt; 0: that many test-image permutations
     * @param unique       fit the joint models for z vs c and U-Net vs z where those spaces are present
     */
    public record Options(List<Space> spaces, List<String> rois, FeatureSettings features, EncodingModel.Options model,
                          int permutations, long seed, boolean unique) {}

    /** A per-voxel result of one space. */
    public record SpaceMap(Space space, double[] r, double[] r2, double[] p, double[] q, double[] ncR, double[] alpha) {
        public int significant() {
            int n = 0;
            for (double v : q) if (v <= Q) n++;
            return n;
        }
    }

    /** Unique variance of A over B and of B over A from a banded joint model. */
    public record Unique(String a, String b, double[] r2Joint, double[] uniqueA, double[] uniqueB, double[] ratio) {}

    public record RoiRow(String roi, String space, int voxels, double medianR, double fractionSignificant, double medianNcR) {}

    /** Everything a report needs. */
    public record Result(String dataset, int[] voxels, List<SpaceMap> maps, List<Unique> uniques, int[] winner, List<RoiRow> rois,
                         Map<String, int[]> roiMembers, Optional<VolumeGeometry> geometry) {}

    private EncodeRun() {}

    public static Result run(Dataset ds, Path out, Options o, Backend be, VisionNetLoader nets, Consumer<String> log) throws IOException {
        if (o.spaces().isEmpty()) throw new IllegalArgumentException("--spaces: give at least one feature space");
        int[] voxels = selectVoxels(ds, o.rois());
        List<Integer> trainIds = ds.imageIds(Split.TRAIN), testIds = ds.imageIds(Split.TEST);
        if (testIds.size() < 3) throw new IllegalArgumentException(ds.dir() + ": " + testIds.size() + " test images; the encoding test needs at least 3");
        Map<Integer, Integer> rowOf = new HashMap<>();
        for (int i = 0; i < trainIds.size(); i++) rowOf.put(trainIds.get(i), i);
        List<Trial> trials = ds.trials(Split.TRAIN);
        int[] rows = trials.stream().mapToInt(t -> rowOf.get(t.imageId())).toArray();
        Tensor y = trialResponses(ds, trials, voxels);
        Averaged avg = ds.average(Split.TEST);
        Tensor yTest = columns(avg.responses(), voxels);
        double[] nc = ds.voxelStat("noise_ceiling").map(t -> pick(t.toDoubleArray(), voxels)).orElse(null);
        log.accept(String.format(Locale.ROOT, "encode: %d voxels, %d training trials of %d images, %d test images (averaged over repetitions)%s",
                voxels.length, trials.size(), trainIds.size(), testIds.size(), nc == null ? "" : ", noise ceiling available"));

        DenseLinAlg la = DenseLinAlg.forBackend(be);
        List<SpaceMap> maps = new ArrayList<>();
        List<Unique> uniques = new ArrayList<>();
        Map<String, Tensor[]> feats = new LinkedHashMap<>();
        try (FeatureStore store = new FeatureStore(ds, out, o.features(), be, nets, log)) {
            for (Space s : o.spaces()) {
                Tensor tr = store.get(s, Split.TRAIN), te = store.get(s, Split.TEST);
                feats.put(s.name(), new Tensor[]{tr, te});
                long t0 = System.nanoTime();
                EncodingModel.Fit f = EncodingModel.fit(la, tr, rows, y, te, o.model(), m -> log.accept("fit " + s + ": " + m));
                SpaceMap m = stats(s, f, yTest, nc, o);
                maps.add(m);
                writeMap(out.resolve("maps/" + s.fileName() + ".npy"), m);
                log.accept(String.format(Locale.ROOT, "%s: %d features, median r %.3f, %d of %d voxels significant at q ≤ %.2f (%.1f s)", s,
                        tr.dimInt(1), Stats.median(m.r()), m.significant(), voxels.length, Q, (System.nanoTime() - t0) / 1e9));
            }
        }
        if (o.unique()) {
            for (String[] pair : uniquePairs(o.spaces())) {
                Unique u = unique(la, pair[0], pair[1], feats, maps, rows, y, yTest, o, log);
                uniques.add(u);
                writeUnique(out.resolve("maps/unique/" + Space.parse(u.a()).fileName() + "+" + Space.parse(u.b()).fileName() + ".npy"), u);
            }
        }
        int[] winner = winner(maps);
        Npy.write(out.resolve("maps/winner.npy"), Tensor.ofInts(winner, winner.length));
        Npy.write(out.resolve("maps/voxels.npy"), Tensor.ofInts(voxels, voxels.length));
        Map<String, int[]> members = roiMembers(ds, voxels);
        List<RoiRow> roiRows = roiSummary(maps, members);
        writeRoiCsv(out.resolve("roi_summary.csv"), roiRows);
        Optional<VolumeGeometry> geom = ds.geometry();
        if (geom.isPresent()) writeNifti(out.resolve("nifti"), geom.get(), voxels, maps, uniques, winner);
        writeSummary(out.resolve("encode.json"), ds, o, maps, uniques, voxels, geom.isPresent());
        return new Result(ds.name(), voxels, maps, uniques, winner, roiRows, members, geom);
    }

    // ---------------------------------------------------------------- data

    static int[] selectVoxels(Dataset ds, List<String> rois) {
        if (rois.isEmpty()) return java.util.stream.IntStream.range(0, ds.voxels()).toArray();
        java.util.TreeSet<Integer> set = new java.util.TreeSet<>();
        for (String r : rois) for (int v : ds.roi(r)) set.add(v);
        return set.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The training trials' responses at the chosen voxels: (trials, voxels) float32. */
    private static Tensor trialResponses(Dataset ds, List<Trial> trials, int[] voxels) {
        int v = ds.voxels(), nv = voxels.length;
        float[] out = new float[Math.multiplyExact(trials.size(), nv)], row = new float[v];
        MemorySegment seg = ds.responses().segment();
        for (int i = 0; i < trials.size(); i++) {
            MemorySegment.copy(seg, Tensor.F32, (long) trials.get(i).index() * v * 4, row, 0, v);
            for (int j = 0; j < nv; j++) out[i * nv + j] = row[voxels[j]];
        }
        return Tensor.of(out, trials.size(), nv);
    }

    private static Tensor columns(Tensor m, int[] cols) {
        int n = m.dimInt(0), t = m.dimInt(1);
        float[] src = m.toFloatArray(), out = new float[n * cols.length];
        for (int i = 0; i < n; i++) for (int j = 0; j < cols.length; j++) out[i * cols.length + j] = src[i * t + cols[j]];
        return Tensor.of(out, n, cols.length);
    }

    private static double[] pick(double[] v, int[] idx) {
        double[] out = new double[idx.length];
        for (int j = 0; j < idx.length; j++) out[j] = v[idx[j]];
        return out;
    }

    // ---------------------------------------------------------------- statistics

    /** r, R², p, q and r/√NC of one fit's test predictions. */
    static SpaceMap stats(Space s, EncodingModel.Fit f, Tensor yTest, double[] nc, Options o) {
        double[] r = VoxelStats.pearson(f.predictions(), yTest), r2 = VoxelStats.r2(f.predictions(), yTest);
        double[] p = o.permutations() > 0 ? VoxelStats.permutationP(f.predictions(), yTest, o.permutations(), o.seed())
                : VoxelStats.tTestP(r, yTest.dimInt(0));
        double[] q = VoxelStats.benjaminiHochberg(p);
        double[] ncR = new double[r.length];
        for (int j = 0; j < r.length; j++) ncR[j] = nc != null && nc[j] > 0 ? r[j] / Math.sqrt(nc[j]) : Double.NaN;
        return new SpaceMap(s, r, r2, p, q, ncR, f.alpha());
    }

    /** z vs c, and every U-Net space vs z, as the paper reports them. */
    static List<String[]> uniquePairs(List<Space> spaces) {
        List<String> names = spaces.stream().map(Space::name).toList();
        List<String[]> pairs = new ArrayList<>();
        if (names.contains("z") && names.contains("c")) pairs.add(new String[]{"z", "c"});
        if (names.contains("z")) {
            for (Space s : spaces) if (s.kind() == Space.Kind.UNET) pairs.add(new String[]{s.name(), "z"});
        }
        return pairs;
    }

    private static Unique unique(DenseLinAlg la, String a, String b, Map<String, Tensor[]> feats, List<SpaceMap> maps, int[] rows,
                                 Tensor y, Tensor yTest, Options o, Consumer<String> log) {
        Tensor[] fa = feats.get(a), fb = feats.get(b);
        long t0 = System.nanoTime();
        EncodingModel.Fit f = EncodingModel.fitBanded(la, fa[0], fb[0], rows, y, fa[1], fb[1], o.model(), m -> log.accept("fit " + a + "+" + b + ": " + m));
        double[] joint = VoxelStats.r2(f.predictions(), yTest);
        double[] ra = mapOf(maps, a).r2(), rb = mapOf(maps, b).r2();
        double[] ua = new double[joint.length], ub = new double[joint.length];
        for (int j = 0; j < joint.length; j++) {
            ua[j] = joint[j] - rb[j];
            ub[j] = joint[j] - ra[j];
        }
        log.accept(String.format(Locale.ROOT, "unique variance %s over %s: median %.4f; %s over %s: median %.4f (%.1f s)", a, b, Stats.median(ua), b, a, Stats.median(ub),
                (System.nanoTime() - t0) / 1e9));
        return new Unique(a, b, joint, ua, ub, f.ratio());
    }

    private static SpaceMap mapOf(List<SpaceMap> maps, String name) {
        return maps.stream().filter(m -> m.space().name().equals(name)).findFirst().orElseThrow();
    }

    /** Per voxel: the space with the highest r among those significant there, or −1. */
    static int[] winner(List<SpaceMap> maps) {
        int nv = maps.get(0).r().length;
        int[] w = new int[nv];
        for (int j = 0; j < nv; j++) {
            int best = -1;
            for (int s = 0; s < maps.size(); s++) {
                SpaceMap m = maps.get(s);
                if (m.q()[j] <= Q && (best < 0 || m.r()[j] > maps.get(best).r()[j])) best = s;
            }
            w[j] = best;
        }
        return w;
    }

    /** Each ROI of the data set as row positions among the selected voxels (ROIs with none left out), plus "all". */
    static Map<String, int[]> roiMembers(Dataset ds, int[] voxels) {
        Map<Integer, Integer> pos = new HashMap<>();
        for (int j = 0; j < voxels.length; j++) pos.put(voxels[j], j);
        Map<String, int[]> out = new LinkedHashMap<>();
        out.put("all", java.util.stream.IntStream.range(0, voxels.length).toArray());
        for (String r : ds.roiNames()) {
            int[] m = Arrays.stream(ds.roi(r)).filter(pos::containsKey).map(pos::get).toArray();
            if (m.length > 0) out.put(r, m);
        }
        return out;
    }

    static List<RoiRow> roiSummary(List<SpaceMap> maps, Map<String, int[]> members) {
        List<RoiRow> out = new ArrayList<>();
        for (Map.Entry<String, int[]> e : members.entrySet()) {
            int[] idx = e.getValue();
            for (SpaceMap m : maps) {
                int sig = 0;
                for (int j : idx) if (m.q()[j] <= Q) sig++;
                out.add(new RoiRow(e.getKey(), m.space().name(), idx.length, Stats.median(pick(m.r(), idx)), (double) sig / idx.length,
                        Stats.median(Arrays.stream(pick(m.ncR(), idx)).filter(Double::isFinite).toArray())));
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- output

    private static void writeMap(Path file, SpaceMap m) throws IOException {
        int nv = m.r().length;
        float[] out = new float[nv * 5];
        for (int j = 0; j < nv; j++) {
            out[j * 5] = (float) m.r()[j];
            out[j * 5 + 1] = (float) m.r2()[j];
            out[j * 5 + 2] = (float) m.p()[j];
            out[j * 5 + 3] = (float) m.q()[j];
            out[j * 5 + 4] = (float) m.ncR()[j];
        }
        Npy.write(file, Tensor.of(out, nv, 5));
    }

    private static void writeUnique(Path file, Unique u) throws IOException {
        int nv = u.r2Joint().length;
        float[] out = new float[nv * 4];
        for (int j = 0; j < nv; j++) {
            out[j * 4] = (float) u.r2Joint()[j];
            out[j * 4 + 1] = (float) u.uniqueA()[j];
            out[j * 4 + 2] = (float) u.uniqueB()[j];
            out[j * 4 + 3] = (float) u.ratio()[j];
        }
        Npy.write(file, Tensor.of(out, nv, 4));
    }

    private static void writeRoiCsv(Path file, List<RoiRow> rows) throws IOException {
        StringBuilder sb = new StringBuilder("roi,space,voxels,median_r,fraction_significant,median_nc_r\n");
        for (RoiRow r : rows) {
            sb.append(String.format(Locale.ROOT, "%s,%s,%d,%.6f,%.6f,%s%n", r.roi(), r.space(), r.voxels(), r.medianR(), r.fractionSignificant(),
                    Double.isNaN(r.medianNcR()) ? "" : String.format(Locale.ROOT, "%.6f", r.medianNcR())));
        }
        AtomicFiles.write(file, sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** 4-D float32 volumes (one per statistic) in the subject's grid; 0 where there is no analysed voxel. */
    private static void writeNifti(Path dir, VolumeGeometry g, int[] voxels, List<SpaceMap> maps, List<Unique> uniques, int[] winner) throws IOException {
        int[] all = g.voxelIndex();
        int[] grid = new int[voxels.length];
        for (int j = 0; j < voxels.length; j++) grid[j] = all[voxels[j]];
        for (SpaceMap m : maps) {
            writeVolumes(dir.resolve(m.space().fileName() + ".nii.gz"), g, grid, List.of(m.r(), m.r2(), m.p(), m.q(), m.ncR()));
        }
        for (Unique u : uniques) {
            writeVolumes(dir.resolve("unique_" + Space.parse(u.a()).fileName() + "+" + Space.parse(u.b()).fileName() + ".nii.gz"), g, grid,
                    List.of(u.r2Joint(), u.uniqueA(), u.uniqueB()));
        }
        double[] w = new double[winner.length];
        for (int j = 0; j < w.length; j++) w[j] = winner[j] + 1; // 0 = outside or no significant space
        writeVolumes(dir.resolve("winner.nii.gz"), g, grid, List.of(w));
    }

    private static void writeVolumes(Path file, VolumeGeometry g, int[] grid, List<double[]> stats) throws IOException {
        int size = g.gridSize();
        float[] data = new float[Math.multiplyExact(size, stats.size())];
        for (int s = 0; s < stats.size(); s++) {
            double[] v = stats.get(s);
            for (int j = 0; j < grid.length; j++) data[s * size + grid[j]] = Double.isFinite(v[j]) ? (float) v[j] : 0f;
        }
        int[] d = g.dims();
        int[] dims = stats.size() == 1 ? d : new int[]{d[0], d[1], d[2], stats.size()};
        Nifti.write(file, dims, Nifti.FLOAT32, data, 0f, 0f, g.affine());
    }

    private static void writeSummary(Path file, Dataset ds, Options o, List<SpaceMap> maps, List<Unique> uniques, int[] voxels, boolean nifti) throws IOException {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("dataset", ds.dir().toAbsolutePath().toString());
        s.put("synthetic", ds.metadata().path("provenance").path("synthetic").asBoolean(false));
        s.put("voxels", voxels.length);
        s.put("rois", o.rois());
        s.put("map_columns", COLUMNS);
        s.put("p_value", o.permutations() > 0 ? "one-sided permutation test, " + o.permutations() + " permutations of the test images (seed " + o.seed() + ")"
                : "one-sided t test of Pearson r, n_test − 2 degrees of freedom");
        s.put("fdr", "Benjamini–Hochberg over the analysed voxels, per space; significant = q ≤ " + Q);
        s.put("nc_r", "r / sqrt(noise_ceiling) where the data set has stats/noise_ceiling, else NaN");
        s.put("model", Map.of("alphas", o.model().alphas(), "folds", o.model().folds(), "cv", "grouped by image id, per-voxel alpha",
                "features", "standardised by the training images, each band / sqrt(p)", "band_ratios", o.model().bandRatios(),
                "trials", "ridge on the training trials, solved on the images weighted by their trial counts (exact); CV R² over held-out trials"));
        FeatureSettings f = o.features();
        s.put("features", Map.of("weights", f.weights() == null ? "none" : f.weights().toString(), "sd_size", f.sdSize(), "sd_steps", f.sdSteps(), "guidance", f.guidance(),
                "seed", f.seed(), "pixel_size", f.pixelSize(), "nets", f.nets() == null ? "none" : f.nets().toString()));
        Map<String, Object> spaces = new LinkedHashMap<>();
        for (SpaceMap m : maps) {
            spaces.put(m.space().name(), Map.of("file", "maps/" + m.space().fileName() + ".npy", "median_r", Stats.median(m.r()), "significant", m.significant()));
        }
        s.put("spaces", spaces);
        List<Object> u = new ArrayList<>();
        for (Unique x : uniques) {
            u.add(Map.of("a", x.a(), "b", x.b(), "file", "maps/unique/" + Space.parse(x.a()).fileName() + "+" + Space.parse(x.b()).fileName() + ".npy",
                    "median_unique_a", Stats.median(x.uniqueA()), "median_unique_b", Stats.median(x.uniqueB())));
        }
        s.put("unique_variance", u);
        s.put("winner", "maps/winner.npy: index into the spaces list, -1 = no space significant");
        s.put("space_order", maps.stream().map(m -> m.space().name()).toList());
        s.put("nifti", nifti);
        Json.write(file, s);
    }

    /** Space names in order, without duplicates. */
    public static List<Space> parseSpaces(List<String> names) {
        LinkedHashSet<String> seen = new LinkedHashSet<>();
        List<Space> out = new ArrayList<>();
        for (String n : names) {
            Space s = Space.parse(n);
            if (!seen.add(s.fileName())) throw new IllegalArgumentException("--spaces: '" + n + "' is given twice");
            out.add(s);
        }
        return out;
    }
}
