package brain2img.data;

import brain2img.io.FormatException;
import brain2img.io.Json;
import brain2img.tensor.Tensor;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import io.jhdf.HdfFile;
import io.jhdf.object.message.DataLayout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Imports one subject of a local copy of the Natural Scenes Dataset into a brain2img data set.
 *
 * <p>Conventions (the facts are in shared/docs/nsd-format.md; the choices are recorded in dataset.json):
 * <ul>
 * <li>trials: the rows of {@code behav/responses.tsv} (SESSION, 73KID), cross-checked against
 *     {@code nsd_expdesign.mat}: row r (0-based over the whole file) must have 73KID =
 *     {@code subjectim(subject, masterordering(r))}. The k-th row of a session is volume k of its betas.</li>
 * <li>image id = 73KID − 1, the 0-based nsdId (row of {@code imgBrick} and of nsd_stim_info_merged.csv).</li>
 * <li>split: test = the shared images ({@code sharedix}, i.e. 10KID ≤ 1000), train = the rest.</li>
 * <li>voxels: those with label &gt; 0 in any requested ROI, in C order over the NIfTI (X, Y, Z) grid
 *     (z fastest), the order brain-diffuser's {@code nii[mask > 0]} gives.</li>
 * <li>betas: int16 / 300 = percent signal change (NIfTI X×Y×Z×T or HDF5 /betas T×Z×Y×X); optionally
 *     z-scored per voxel within each session. One session is held in memory at a time.</li>
 * </ul>
 */
public final class NsdImporter {
    /** Beta files hold round(PSC × 300) as int16. */
    public static final float BETA_SCALE = 300f;
    static final String[] STREAMS = {"Unknown", "early", "midventral", "midlateral", "midparietal", "ventral", "lateral", "parietal"};
    /** Atlases whose labels are written as ROIs when present (nsdgeneral has the single label 1). */
    static final List<String> ATLASES = List.of("nsdgeneral", "streams", "prf-visualrois", "prf-eccrois",
            "floc-faces", "floc-words", "floc-places", "floc-bodies");

    /** @param sessions 1-based session numbers to import (empty = every session in responses.tsv) */
    public record Options(Path root, int subject, List<Integer> sessions, List<String> rois, boolean zscoreSessions) {
        public Options {
            if (subject < 1 || subject > 8) throw new IllegalArgumentException("NSD subject must be 1..8, got " + subject);
            sessions = List.copyOf(sessions);
            rois = rois.isEmpty() ? List.of("nsdgeneral") : List.copyOf(rois);
        }
    }

    private final Options o;
    private final String subj;
    private final Path betasDir, roiDir;

    private NsdImporter(Options o) {
        this.o = o;
        this.subj = String.format(Locale.ROOT, "subj%02d", o.subject());
        this.betasDir = o.root().resolve("nsddata_betas/ppdata").resolve(subj).resolve("func1pt8mm/betas_fithrf_GLMdenoise_RR");
        this.roiDir = o.root().resolve("nsddata/ppdata").resolve(subj).resolve("func1pt8mm/roi");
    }

    public static Dataset run(Options o, Path out) throws IOException {
        if (!Files.isDirectory(o.root())) throw new IllegalArgumentException(o.root() + ": not a directory (expected the NSD root holding nsddata/, nsddata_betas/, nsddata_stimuli/)");
        return new NsdImporter(o).importTo(out);
    }

    /** The noise ceiling (fraction of variance) of the mean of n trials from NSD's ncsnr: ncsnr² / (ncsnr² + 1/n). */
    public static float noiseCeiling(float ncsnr, int n) {
        double s2 = (double) ncsnr * ncsnr;
        return (float) (s2 / (s2 + 1.0 / n));
    }

    // ------------------------------------------------------------------ trials

    private record Row(int session, int nsdId73, int tenK) {}

    /** Every row of responses.tsv, checked against the design, and the 73KIDs of the shared (test) images. */
    private record Design(List<Row> rows, Set<Integer> shared) {}

    private Design readTrials() {
        Path tsv = o.root().resolve("nsddata/ppdata").resolve(subj).resolve("behav/responses.tsv");
        Path design = o.root().resolve("nsddata/experiments/nsd/nsd_expdesign.mat");
        require(tsv, "the behavioural table (tab-separated, header SUBJECT SESSION RUN TRIAL 73KID 10KID ...)");
        require(design, "the experiment design (MAT v5 with masterordering, subjectim, sharedix)");
        MatFile mat = MatFile.read(design);
        MatFile.Var order = mat.get("masterordering"), subjectim = mat.get("subjectim");
        if (subjectim.rows() < o.subject()) {
            throw new FormatException(design + ": subjectim is " + subjectim.describe() + ", has no row for subject " + o.subject());
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(tsv, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new FormatException(tsv + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (lines.isEmpty()) throw new FormatException(tsv + ": empty (expected a header row)");
        List<String> header = Arrays.asList(lines.get(0).strip().split("\t"));
        int cSession = header.indexOf("SESSION"), c73 = header.indexOf("73KID"), c10 = header.indexOf("10KID");
        if (cSession < 0 || c73 < 0) throw new FormatException(tsv + ": header must name SESSION and 73KID columns, got " + header);
        List<Row> rows = new ArrayList<>(lines.size());
        for (int ln = 1; ln < lines.size(); ln++) {
            if (lines.get(ln).isBlank()) continue;
            String[] f = lines.get(ln).split("\t", -1);
            String where = tsv + " line " + (ln + 1);
            if (f.length != header.size()) throw new FormatException(where + ": " + f.length + " fields, header has " + header.size());
            int r = rows.size();
            int session = intField(f[cSession], "SESSION", where), k73 = intField(f[c73], "73KID", where);
            if (r >= order.numel()) throw new FormatException(where + ": more trials than masterordering's " + order.numel() + " in " + design);
            int tenK = (int) order.data()[r];
            if (tenK < 1 || tenK > subjectim.cols()) throw new FormatException(design + ": masterordering(" + (r + 1) + ") = " + tenK + " is outside 1.." + subjectim.cols());
            int expected = (int) subjectim.at(o.subject() - 1, tenK - 1);
            if (k73 != expected) {
                throw new FormatException(where + ": 73KID " + k73 + " but nsd_expdesign.mat gives subjectim(" + o.subject() + ", masterordering(" + (r + 1) + ")) = " + expected);
            }
            if (c10 >= 0 && intField(f[c10], "10KID", where) != tenK) {
                throw new FormatException(where + ": 10KID " + f[c10] + " but masterordering(" + (r + 1) + ") = " + tenK);
            }
            rows.add(new Row(session, k73, tenK));
        }
        if (rows.isEmpty()) throw new FormatException(tsv + ": no trials");
        Set<Integer> shared = new HashSet<>();
        for (double d : mat.get("sharedix").data()) shared.add((int) d);
        return new Design(rows, shared);
    }

    private static int intField(String s, String name, String where) {
        try {
            double d = Double.parseDouble(s.strip()); // written with %.20g: "46003" (or "4.6003e+04" in principle)
            if (d != Math.rint(d) || Double.isNaN(d)) throw new NumberFormatException();
            return (int) d;
        } catch (NumberFormatException e) {
            throw new FormatException(where + ": " + name + " '" + s + "' is not an integer");
        }
    }

    private static void require(Path file, String what) {
        if (!Files.isRegularFile(file)) throw new FormatException(file + ": missing; expected " + what);
    }

    // ------------------------------------------------------------------ ROIs

    /** An atlas volume (Fortran order over X, Y, Z) and its label names (index → name). */
    private record Atlas(String name, int[] dims, float[] labels, Map<Integer, String> names) {}

    private Map<String, Atlas> readAtlases() {
        Map<String, Atlas> out = new LinkedHashMap<>();
        for (String a : ATLASES) {
            Path f = roiDir.resolve(a + ".nii.gz");
            if (!Files.isRegularFile(f)) continue;
            Nifti.Header h = Nifti.header(f);
            if (h.t() != 1) throw new FormatException(f + ": ROI volume must be 3-D, got dims " + Arrays.toString(h.dims()));
            out.put(a, new Atlas(a, new int[]{h.x(), h.y(), h.z()}, Nifti.readAll(f), labelNames(a)));
        }
        if (!out.containsKey("nsdgeneral") && o.rois().contains("nsdgeneral")) {
            require(roiDir.resolve("nsdgeneral.nii.gz"), "the nsdgeneral ROI volume (the default voxel selection; or pass --rois)");
        }
        int[] dims = null;
        for (Atlas a : out.values()) {
            if (dims == null) dims = a.dims();
            else if (!Arrays.equals(dims, a.dims())) {
                throw new FormatException(roiDir.resolve(a.name() + ".nii.gz") + ": dims " + Arrays.toString(a.dims()) + " differ from the other ROI volumes' " + Arrays.toString(dims));
            }
        }
        return out;
    }

    private Map<Integer, String> labelNames(String atlas) {
        Map<Integer, String> names = new TreeMap<>();
        if (atlas.equals("nsdgeneral")) {
            names.put(1, "nsdgeneral");
            return names;
        }
        Path ctab = o.root().resolve("nsddata/freesurfer").resolve(subj).resolve("label/" + atlas + ".mgz.ctab");
        if (!Files.isRegularFile(ctab)) ctab = o.root().resolve("nsddata/freesurfer/fsaverage/label/" + atlas + ".mgz.ctab");
        if (Files.isRegularFile(ctab)) {
            try {
                for (String line : Files.readAllLines(ctab, StandardCharsets.UTF_8)) {
                    String[] f = line.strip().split("\\s+");
                    if (f.length < 2) continue;
                    int idx;
                    try {
                        idx = Integer.parseInt(f[0]);
                    } catch (NumberFormatException e) {
                        throw new FormatException(ctab + ": line '" + line.strip() + "' does not start with a label index");
                    }
                    if (idx > 0) names.put(idx, f[1]);
                }
            } catch (IOException e) {
                throw new FormatException(ctab + ": cannot read (" + e.getMessage() + ")", e);
            }
        } else if (atlas.equals("streams")) {
            for (int i = 1; i < STREAMS.length; i++) names.put(i, STREAMS[i]);
        } else {
            throw new FormatException(ctab + ": missing; expected the label table (lines 'index name') for ROI volume " + atlas);
        }
        return names;
    }

    /** The voxels (Fortran indices into the volume) with a positive label in any requested ROI, in C order. */
    private int[] selectVoxels(Map<String, Atlas> atlases) {
        Atlas any = atlases.values().stream().findFirst().orElseThrow(() ->
                new FormatException(roiDir + ": no ROI volumes found (expected e.g. nsdgeneral.nii.gz, streams.nii.gz)"));
        int[] d = any.dims();
        boolean[] selected = new boolean[d[0] * d[1] * d[2]];
        for (String roi : o.rois()) {
            boolean found = false;
            for (Atlas a : atlases.values()) {
                if (a.name().equals(roi)) { // a whole atlas: every positive label
                    for (int i = 0; i < selected.length; i++) selected[i] |= a.labels()[i] > 0;
                    found = true;
                }
                for (Map.Entry<Integer, String> e : a.names().entrySet()) {
                    if (!e.getValue().equals(roi) || a.name().equals(roi)) continue;
                    for (int i = 0; i < selected.length; i++) selected[i] |= a.labels()[i] == e.getKey();
                    found = true;
                }
            }
            if (!found) {
                Set<String> known = new LinkedHashSet<>();
                for (Atlas a : atlases.values()) {
                    known.add(a.name());
                    known.addAll(a.names().values());
                }
                throw new IllegalArgumentException("unknown ROI '" + roi + "' for " + subj + "; known: " + String.join(", ", known));
            }
        }
        // C order over (X, Y, Z): z fastest
        int[] tmp = new int[selected.length];
        int n = 0;
        for (int x = 0; x < d[0]; x++)
            for (int y = 0; y < d[1]; y++)
                for (int z = 0; z < d[2]; z++) {
                    int f = x + d[0] * (y + d[1] * z);
                    if (selected[f]) tmp[n++] = f;
                }
        if (n == 0) throw new FormatException(roiDir + ": the ROIs " + o.rois() + " select no voxels");
        return Arrays.copyOf(tmp, n);
    }

    // ------------------------------------------------------------------ import

    private Dataset importTo(Path out) throws IOException {
        Design design = readTrials();
        List<Row> rows = design.rows();
        Set<Integer> shared = design.shared();
        Map<String, Atlas> atlases = readAtlases();
        int[] voxels = selectVoxels(atlases);
        int[] dims = atlases.values().iterator().next().dims();

        // trials of the chosen sessions, grouped by session in file order
        Map<Integer, List<Row>> bySession = new TreeMap<>();
        for (Row r : rows) bySession.computeIfAbsent(r.session(), k -> new ArrayList<>()).add(r);
        List<Integer> sessions = o.sessions().isEmpty() ? new ArrayList<>(bySession.keySet()) : o.sessions();
        for (int s : sessions) {
            if (!bySession.containsKey(s)) throw new IllegalArgumentException("session " + s + " is not in responses.tsv of " + subj + " (has " + bySession.keySet() + ")");
        }
        long trials = sessions.stream().mapToLong(s -> bySession.get(s).size()).sum();
        Path marker = o.root().resolve(SynthNsdTree.MARKER);

        try (DatasetWriter w = DatasetWriter.create(out, "nsd-" + subj)) {
            w.subject(subj);
            w.provenance("importer", "nsd");
            w.provenance("synthetic", Files.isRegularFile(marker));
            w.provenance("options", Map.of("root", o.root().toString(), "subject", o.subject(), "sessions", sessions,
                    "rois", o.rois(), "zscore_sessions", o.zscoreSessions()));
            w.provenance("image_id", "73KID - 1 (0-based nsdId: index into imgBrick and nsd_stim_info_merged.csv)");
            w.provenance("split", "test = shared images (sharedix / 10KID <= 1000), train = the rest");
            w.provenance("voxel_order", "C order over the func1pt8mm NIfTI grid (X, Y, Z), z fastest, as brain-diffuser's nii[mask > 0]");
            w.provenance("volume_dims", dims);
            w.provenance("units", o.zscoreSessions() ? "z-scored per voxel within each session (from betas int16 / 300)" : "percent signal change (betas int16 / 300)");
            Map<String, String> betaFiles = new LinkedHashMap<>();
            w.responses(trials, voxels.length);
            int index = 0;
            Map<Integer, Integer> seen = new HashMap<>();
            for (int s : sessions) {
                List<Row> sr = bySession.get(s);
                Path f = betaFile(s);
                betaFiles.put(Integer.toString(s), f.getFileName().toString());
                float[] block = readSession(f, dims, voxels, sr.size());
                if (o.zscoreSessions()) zscore(block, sr.size(), voxels.length);
                w.appendRows(block);
                for (Row r : sr) {
                    int id = r.nsdId73() - 1;
                    int rep = seen.merge(id, 1, Integer::sum) - 1;
                    w.trial(new Trial(index++, id, s, rep, shared.contains(r.nsdId73()) ? Split.TEST : Split.TRAIN));
                }
            }
            w.provenance("beta_files", betaFiles);
            writeRois(w, atlases, voxels);
            w.geometry(new VolumeGeometry(dims, Nifti.affine(roiDir.resolve(atlases.keySet().iterator().next() + ".nii.gz")), voxels));
            writeNoiseCeiling(w, dims, voxels);
            List<Integer> ids = new ArrayList<>(seen.keySet());
            ids.sort(null);
            writeStimuli(w, ids);
            w.provenance("captions", writeCaptions(w, ids));
            return w.commit();
        }
    }

    private Path betaFile(int session) {
        String base = String.format(Locale.ROOT, "betas_session%02d", session);
        for (String ext : new String[]{".hdf5", ".nii.gz", ".nii"}) {
            Path p = betasDir.resolve(base + ext);
            if (Files.isRegularFile(p)) return p;
        }
        throw new FormatException(betasDir.resolve(base + ".hdf5") + ": missing (nor .nii.gz/.nii); expected the session's betas, int16 X×Y×Z×trials");
    }

    /** One session's betas at the chosen voxels: trials × voxels, in PSC. */
    static float[] readSession(Path f, int[] dims, int[] voxels, int trials) {
        float[] out = new float[Math.multiplyExact(trials, voxels.length)];
        int nv = voxels.length;
        if (f.getFileName().toString().endsWith(".hdf5")) {
            readHdf5Session(f, dims, voxels, trials, out);
        } else {
            Nifti.Header h = Nifti.header(f);
            if (h.x() != dims[0] || h.y() != dims[1] || h.z() != dims[2] || h.t() != trials) {
                throw new FormatException(f + ": dims " + Arrays.toString(h.dims()) + ", expected " + Arrays.toString(dims) + "×" + trials + " (ROI grid × trials of the session in responses.tsv)");
            }
            Nifti.readVolumes(f, (t, vol) -> {
                for (int j = 0; j < nv; j++) out[t * nv + j] = vol[voxels[j]] / BETA_SCALE;
            });
        }
        return out;
    }

    private static void readHdf5Session(Path f, int[] dims, int[] voxels, int trials, float[] out) {
        int nv = voxels.length;
        try (HdfFile h = new HdfFile(f)) {
            io.jhdf.api.Dataset ds;
            try {
                ds = h.getDatasetByPath("/betas");
            } catch (RuntimeException e) {
                throw new FormatException(f + ": no dataset /betas (expected int16 trials×Z×Y×X)");
            }
            int[] s = ds.getDimensions();
            if (s.length != 4 || s[0] != trials || s[1] != dims[2] || s[2] != dims[1] || s[3] != dims[0]) {
                throw new FormatException(f + ": /betas has shape " + Arrays.toString(s) + ", expected [" + trials + ", " + dims[2] + ", " + dims[1] + ", " + dims[0] + "] (trials×Z×Y×X)");
            }
            if (ds.getDataLayout() == DataLayout.CHUNKED) {
                // NSD's own files are chunked one voxel's time series per chunk: read just the chosen voxels
                for (int j = 0; j < nv; j++) {
                    int fi = voxels[j], x = fi % dims[0], y = (fi / dims[0]) % dims[1], z = fi / (dims[0] * dims[1]);
                    int[] series = Hdf5Arrays.ints(ds.getData(new long[]{0, z, y, x}, new int[]{trials, 1, 1, 1}));
                    for (int t = 0; t < trials; t++) out[t * nv + j] = series[t] / BETA_SCALE;
                }
            } else {
                int plane = dims[0] * dims[1] * dims[2];
                int step = Math.max(1, (32 << 20) / (plane * 2)); // read ≈ 32 MB of trials at a time
                for (int t0 = 0; t0 < trials; t0 += step) {
                    int k = Math.min(step, trials - t0);
                    int[] slab = Hdf5Arrays.ints(ds.getData(new long[]{t0, 0, 0, 0}, new int[]{k, dims[2], dims[1], dims[0]}));
                    // h5 index (t, z, y, x) → t*plane + (z*Y + y)*X + x = t*plane + Fortran index
                    for (int t = 0; t < k; t++)
                        for (int j = 0; j < nv; j++) out[(t0 + t) * nv + j] = slab[t * plane + voxels[j]] / BETA_SCALE;
                }
            }
        } catch (FormatException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new FormatException(f + ": not a readable HDF5 betas file (" + e.getMessage() + ")", e);
        }
    }

    /** Per voxel: subtract the session mean, divide by the session's standard deviation (left centred if 0). */
    static void zscore(float[] block, int trials, int voxels) {
        for (int v = 0; v < voxels; v++) {
            double sum = 0, sq = 0;
            for (int t = 0; t < trials; t++) sum += block[t * voxels + v];
            double mean = sum / trials;
            for (int t = 0; t < trials; t++) {
                double d = block[t * voxels + v] - mean;
                sq += d * d;
            }
            double sd = Math.sqrt(sq / trials);
            double inv = sd > 0 ? 1 / sd : 1;
            for (int t = 0; t < trials; t++) block[t * voxels + v] = (float) ((block[t * voxels + v] - mean) * inv);
        }
    }

    private static void writeRois(DatasetWriter w, Map<String, Atlas> atlases, int[] voxels) {
        for (Atlas a : atlases.values()) {
            for (Map.Entry<Integer, String> e : a.names().entrySet()) {
                int[] idx = new int[voxels.length];
                int n = 0;
                for (int j = 0; j < voxels.length; j++) if (a.labels()[voxels[j]] == e.getKey()) idx[n++] = j;
                if (n > 0) w.roi(e.getValue(), Arrays.copyOf(idx, n));
            }
        }
    }

    private void writeNoiseCeiling(DatasetWriter w, int[] dims, int[] voxels) {
        Path f = betasDir.resolve("ncsnr.nii.gz");
        if (!Files.isRegularFile(f)) return;
        Nifti.Header h = Nifti.header(f);
        if (h.x() != dims[0] || h.y() != dims[1] || h.z() != dims[2] || h.t() != 1) {
            throw new FormatException(f + ": dims " + Arrays.toString(h.dims()) + ", expected the ROI grid " + Arrays.toString(dims));
        }
        float[] vol = Nifti.readAll(f);
        float[] ncsnr = new float[voxels.length], nc = new float[voxels.length];
        for (int j = 0; j < voxels.length; j++) {
            ncsnr[j] = vol[voxels[j]];
            nc[j] = noiseCeiling(ncsnr[j], 3);
        }
        w.voxelStat("ncsnr", ncsnr);
        w.voxelStat("noise_ceiling", nc);
        w.provenance("noise_ceiling", "ncsnr² / (ncsnr² + 1/3): fraction of variance explainable in the mean of 3 trials (NSD manual)");
    }

    private void writeStimuli(DatasetWriter w, List<Integer> ids) throws IOException {
        Path f = o.root().resolve("nsddata_stimuli/stimuli/nsd/nsd_stimuli.hdf5");
        require(f, "the stimuli (HDF5 dataset imgBrick, images × H × W × 3 uint8)");
        try (HdfFile h = new HdfFile(f)) {
            io.jhdf.api.Dataset ds;
            try {
                ds = h.getDatasetByPath("/imgBrick");
            } catch (RuntimeException e) {
                throw new FormatException(f + ": no dataset imgBrick");
            }
            int[] s = ds.getDimensions();
            if (s.length != 4 || s[3] != 3) throw new FormatException(f + ": imgBrick has shape " + Arrays.toString(s) + ", expected [images, H, W, 3]");
            for (int id : ids) {
                if (id >= s[0]) throw new FormatException(f + ": imgBrick has " + s[0] + " images, trials need image " + id);
                w.stimulus(id, brickImage(ds, id));
            }
        } catch (FormatException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new FormatException(f + ": not a readable HDF5 stimulus file (" + e.getMessage() + ")", e);
        }
    }

    /** Image {@code id} of an imgBrick (images × H × W × 3, uint8; jhdf may hand it back as signed bytes) as (3,H,W) in [0,1]. */
    static Tensor brickImage(io.jhdf.api.Dataset brick, int id) {
        int[] s = brick.getDimensions();
        int hh = s[1], ww = s[2];
        int[] px = Hdf5Arrays.ints(brick.getData(new long[]{id, 0, 0, 0}, new int[]{1, hh, ww, 3}));
        float[] chw = new float[3 * hh * ww];
        for (int p = 0; p < hh * ww; p++) {
            for (int c = 0; c < 3; c++) chw[c * hh * ww + p] = (px[p * 3 + c] & 0xff) / 255f;
        }
        return Tensor.of(chw, 3, hh, ww);
    }

    /** COCO captions through nsd_stim_info_merged.csv; returns a note for the provenance. */
    private String writeCaptions(DatasetWriter w, List<Integer> ids) throws IOException {
        Path csv = o.root().resolve("nsddata/experiments/nsd/nsd_stim_info_merged.csv");
        Path ann = o.root().resolve("nsddata_stimuli/stimuli/nsd/annotations");
        if (!Files.isRegularFile(csv)) return "not imported: " + csv + " is missing";
        Map<Integer, long[]> coco = cocoIds(csv, new HashSet<>(ids)); // nsdId → {cocoId, split (0 train, 1 val)}
        Map<Long, List<String>> byCoco = new HashMap<>();
        String[] splits = {"train2017", "val2017"};
        for (int sp = 0; sp < 2; sp++) {
            final int split = sp;
            Set<Long> want = new HashSet<>();
            coco.values().stream().filter(c -> c[1] == split).forEach(c -> want.add(c[0]));
            if (want.isEmpty()) continue;
            Path f = ann.resolve("captions_" + splits[sp] + ".json");
            if (!Files.isRegularFile(f)) return "not imported: " + f + " is missing";
            readAnnotations(f, want, byCoco);
        }
        for (int id : ids) {
            long[] c = coco.get(id);
            if (c != null) w.captions(id, byCoco.getOrDefault(c[0], List.of()));
        }
        return "COCO 2017 captions matched through nsd_stim_info_merged.csv (nsdId → cocoId, cocoSplit)";
    }

    private static Map<Integer, long[]> cocoIds(Path csv, Set<Integer> wanted) throws IOException {
        Map<Integer, long[]> out = new HashMap<>();
        try (var lines = Files.lines(csv, StandardCharsets.UTF_8)) {
            var it = lines.iterator();
            if (!it.hasNext()) throw new FormatException(csv + ": empty");
            List<String> header = Arrays.asList(splitCsv(it.next()));
            int cCoco = header.indexOf("cocoId"), cSplit = header.indexOf("cocoSplit"), cNsd = header.indexOf("nsdId");
            if (cCoco < 0 || cSplit < 0 || cNsd < 0) throw new FormatException(csv + ": header must name cocoId, cocoSplit and nsdId, got " + header);
            int ln = 1;
            while (it.hasNext()) {
                String line = it.next();
                ln++;
                if (line.isBlank()) continue;
                String[] f = splitCsv(line);
                String where = csv + " line " + ln;
                if (f.length != header.size()) throw new FormatException(where + ": " + f.length + " fields, header has " + header.size());
                int nsd = intField(f[cNsd], "nsdId", where);
                if (!wanted.contains(nsd)) continue;
                String split = f[cSplit].strip();
                if (!split.equals("train2017") && !split.equals("val2017")) throw new FormatException(where + ": cocoSplit '" + split + "', expected train2017 or val2017");
                out.put(nsd, new long[]{intField(f[cCoco], "cocoId", where), split.equals("val2017") ? 1 : 0});
            }
        }
        return out;
    }

    /** Splits a CSV line; quoted fields (cropBox "(0, 0, 0.1, 0.1)") may hold commas. */
    static String[] splitCsv(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char ch = line.charAt(i);
            if (ch == '"') quoted = !quoted;
            else if (ch == ',' && !quoted) {
                out.add(cur.toString());
                cur.setLength(0);
            } else cur.append(ch);
        }
        out.add(cur.toString());
        return out.toArray(String[]::new);
    }

    /** Streams a COCO captions file, keeping the captions of the wanted images in file order. */
    private static void readAnnotations(Path f, Set<Long> want, Map<Long, List<String>> out) throws IOException {
        try (JsonParser p = Json.MAPPER.getFactory().createParser(f.toFile())) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw new FormatException(f + ": not a COCO captions file (expected a JSON object)");
            boolean found = false;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                if (!field.equals("annotations")) {
                    p.skipChildren();
                    continue;
                }
                if (t != JsonToken.START_ARRAY) throw new FormatException(f + ": \"annotations\" must be an array");
                found = true;
                while (p.nextToken() == JsonToken.START_OBJECT) {
                    JsonNode a = Json.MAPPER.readTree(p);
                    if (!a.has("image_id") || !a.path("caption").isTextual()) throw new FormatException(f + ": annotation without image_id/caption: " + a);
                    long id = a.get("image_id").asLong();
                    if (want.contains(id)) out.computeIfAbsent(id, k -> new ArrayList<>()).add(a.get("caption").asText().strip());
                }
            }
            if (!found) throw new FormatException(f + ": no \"annotations\" array (expected COCO captions_*.json)");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new FormatException(f + ": not valid JSON (" + e.getOriginalMessage() + ")", e);
        }
    }
}
