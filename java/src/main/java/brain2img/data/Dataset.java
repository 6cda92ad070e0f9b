package brain2img.data;

import brain2img.io.FormatException;
import brain2img.io.Json;
import brain2img.io.Npy;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * A brain2img data set: one directory that every importer and the synthetic generator write (through
 * {@link DatasetWriter}) and the pipeline reads.
 *
 * <pre>
 * dataset.json         name, subject, voxels, trials, images, image_size [C,H,W], file names, provenance
 * responses.npy        trials × voxels, float32 (or float16), row i = trial i of trials.csv
 * trials.csv           trial,image_id,session,repetition,split   (split = train|test)
 * rois/NAME.npy        int32 voxel indices of ROI NAME, strictly increasing
 * stimuli/ID.png       the image with id ID, 8-bit grey or RGB; read as (C,H,W) in [0,1]
 * captions.json        optional: {"ID": ["caption", ...], ...}
 * stats/NAME.npy       optional per-voxel float32 statistics, e.g. noise_ceiling
 * geometry.json        optional: the volume grid {dims, affine} and geometry/mask.npy, each voxel's grid index
 * </pre>
 *
 * {@link #open} checks all of it before returning (shapes, counts, ids, index ranges, NaN voxels, an image
 * in both splits) and throws a {@link FormatException} naming the first problem. Responses are memory-mapped.
 */
public final class Dataset {
    static final String META = "dataset.json", RESPONSES = "responses.npy", TRIALS = "trials.csv",
            CAPTIONS = "captions.json", STIMULI_DIR = "stimuli", ROI_DIR = "rois", STATS_DIR = "stats";
    static final String GEOMETRY = "geometry.json", GEOMETRY_MASK = "geometry/mask.npy";
    static final String TRIAL_HEADER = "trial,image_id,session,repetition,split";

    private final Path dir;
    private final JsonNode meta;
    private final Tensor responses;
    private final List<Trial> trials;
    private final Map<String, int[]> rois;
    private final Map<String, Tensor> stats;
    private final Map<Integer, List<String>> captions;
    private final int[] imageSize;
    private final VolumeGeometry geometry;

    private Dataset(Path dir, JsonNode meta, Tensor responses, List<Trial> trials, Map<String, int[]> rois,
                    Map<String, Tensor> stats, Map<Integer, List<String>> captions, int[] imageSize, VolumeGeometry geometry) {
        this.dir = dir;
        this.meta = meta;
        this.responses = responses;
        this.trials = trials;
        this.rois = rois;
        this.stats = stats;
        this.captions = captions;
        this.imageSize = imageSize;
        this.geometry = geometry;
    }

    // ------------------------------------------------------------------ opening and validation

    public static Dataset open(Path dir) {
        if (!Files.isDirectory(dir)) throw new FormatException(dir + ": not a directory (expected a brain2img data set)");
        Path metaFile = dir.resolve(META);
        if (!Files.isRegularFile(metaFile)) throw new FormatException(dir + ": no " + META + " (not a brain2img data set)");
        JsonNode meta = Json.read(metaFile);
        if (!"brain2img-dataset".equals(meta.path("format").asText())) {
            throw new FormatException(metaFile + ": \"format\" must be \"brain2img-dataset\", got " + meta.path("format"));
        }
        if (meta.path("version").asInt(-1) != DatasetWriter.FORMAT_VERSION) {
            throw new FormatException(metaFile + ": unsupported \"version\" " + meta.path("version") + " (this build reads " + DatasetWriter.FORMAT_VERSION + ")");
        }
        requireText(meta, "name", metaFile);
        int voxels = requirePositiveInt(meta, "voxels", metaFile);
        int trialCount = requirePositiveInt(meta, "trials", metaFile);
        int[] imageSize = imageSize(meta, metaFile);

        Tensor responses = responses(dir.resolve(RESPONSES), trialCount, voxels);
        List<Trial> trials = readTrials(dir.resolve(TRIALS), trialCount);
        checkSplits(trials, dir.resolve(TRIALS));
        int images = (int) trials.stream().mapToInt(Trial::imageId).distinct().count();
        if (meta.has("images") && meta.get("images").asInt() != images) {
            throw new FormatException(metaFile + ": \"images\" is " + meta.get("images") + " but " + TRIALS + " has " + images + " distinct image ids");
        }
        checkStimuli(dir, trials, imageSize);
        Map<String, int[]> rois = readRois(dir, meta.path("rois"), voxels, metaFile);
        Map<String, Tensor> stats = readStats(dir, meta.path("voxel_stats"), voxels, metaFile);
        Map<Integer, List<String>> captions = readCaptions(dir, meta, trials);
        VolumeGeometry geometry = readGeometry(dir, meta, voxels, metaFile);
        checkFinite(responses, dir.resolve(RESPONSES));
        return new Dataset(dir, meta, responses, List.copyOf(trials), rois, stats, captions, imageSize, geometry);
    }

    private static String requireText(JsonNode meta, String key, Path file) {
        JsonNode n = meta.get(key);
        if (n == null || !n.isTextual() || n.asText().isBlank()) throw new FormatException(file + ": missing or empty \"" + key + "\"");
        return n.asText();
    }

    private static int requirePositiveInt(JsonNode meta, String key, Path file) {
        JsonNode n = meta.get(key);
        if (n == null || !n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() <= 0) {
            throw new FormatException(file + ": \"" + key + "\" must be a positive integer, got " + n);
        }
        return n.asInt();
    }

    private static int[] imageSize(JsonNode meta, Path file) {
        JsonNode n = meta.get("image_size");
        if (n == null || !n.isArray() || n.size() != 3) throw new FormatException(file + ": \"image_size\" must be [C, H, W], got " + n);
        int[] s = new int[3];
        for (int i = 0; i < 3; i++) s[i] = n.get(i).asInt();
        if ((s[0] != 1 && s[0] != 3) || s[1] <= 0 || s[2] <= 0) {
            throw new FormatException(file + ": \"image_size\" " + Arrays.toString(s) + " must have C = 1 or 3 and positive H, W");
        }
        return s;
    }

    private static Tensor responses(Path file, int trials, int voxels) {
        Tensor t = Npy.map(file);
        if (t.rank() != 2 || t.dim(0) != trials || t.dim(1) != voxels) {
            throw new FormatException(file + ": shape " + Arrays.toString(t.shape()) + ", expected [" + trials + ", " + voxels + "] (trials × voxels from " + META + ")");
        }
        if (t.dtype() == DType.F16) return t.to(DType.F32); // the API promises f32
        if (t.dtype() != DType.F32) throw new FormatException(file + ": dtype " + t.dtype().lower() + ", expected float32 or float16");
        return t;
    }

    private static List<Trial> readTrials(Path file, int expected) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new FormatException(file + ": no such file");
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (lines.isEmpty() || !lines.get(0).strip().equals(TRIAL_HEADER)) {
            throw new FormatException(file + ": first line must be '" + TRIAL_HEADER + "'");
        }
        List<Trial> out = new ArrayList<>(expected);
        for (int ln = 1; ln < lines.size(); ln++) {
            String line = lines.get(ln);
            if (line.isBlank()) continue;
            String where = file + " line " + (ln + 1);
            String[] f = line.split(",", -1);
            if (f.length != 5) throw new FormatException(where + ": expected 5 comma-separated fields, got " + f.length + ": '" + line + "'");
            int index = parseInt(f[0], "trial", where), image = parseInt(f[1], "image_id", where),
                    session = parseInt(f[2], "session", where), rep = parseInt(f[3], "repetition", where);
            Split split = Split.parse(f[4]);
            if (split == null) throw new FormatException(where + ": split must be train or test, got '" + f[4] + "'");
            if (index != out.size()) throw new FormatException(where + ": trial index " + index + ", expected " + out.size() + " (rows must be in response-matrix order)");
            if (image < 0 || rep < 0) throw new FormatException(where + ": image_id and repetition must be ≥ 0");
            out.add(new Trial(index, image, session, rep, split));
        }
        if (out.size() != expected) throw new FormatException(file + ": " + out.size() + " trials, but " + META + " and " + RESPONSES + " have " + expected);
        return out;
    }

    private static int parseInt(String s, String field, String where) {
        try {
            return Integer.parseInt(s.strip());
        } catch (NumberFormatException e) {
            throw new FormatException(where + ": " + field + " '" + s + "' is not an integer");
        }
    }

    /** An image shown in training and test trials would leak the test set into training. */
    private static void checkSplits(List<Trial> trials, Path file) {
        Map<Integer, Split> seen = new HashMap<>();
        for (Trial t : trials) {
            Split s = seen.putIfAbsent(t.imageId(), t.split());
            if (s != null && s != t.split()) {
                throw new FormatException(file + ": image " + t.imageId() + " is in both train and test trials (trial " + t.index() + ")");
            }
        }
    }

    private static void checkStimuli(Path dir, List<Trial> trials, int[] imageSize) {
        boolean first = true;
        for (int id : new LinkedHashSet<>(trials.stream().map(Trial::imageId).toList())) {
            Path f = stimulusFile(dir, id);
            if (!Files.isRegularFile(f)) throw new FormatException(f + ": missing stimulus for image " + id);
            if (first) { // decoding all would be slow; the size of every image is checked again when read
                checkSize(StimulusFiles.read(f), imageSize, f);
                first = false;
            }
        }
    }

    private static void checkSize(Tensor img, int[] imageSize, Path f) {
        int[] got = {img.dimInt(0), img.dimInt(1), img.dimInt(2)};
        if (!Arrays.equals(got, imageSize)) {
            throw new FormatException(f + ": image is " + Arrays.toString(got) + " (C,H,W) but " + META + " says " + Arrays.toString(imageSize));
        }
    }

    private static Path stimulusFile(Path dir, int id) {
        return dir.resolve(STIMULI_DIR).resolve(id + ".png");
    }

    private static Map<String, int[]> readRois(Path dir, JsonNode node, int voxels, Path metaFile) {
        Map<String, int[]> out = new TreeMap<>();
        if (node.isMissingNode() || node.isNull()) return out;
        if (!node.isObject()) throw new FormatException(metaFile + ": \"rois\" must be an object {name: file}");
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            Path f = dir.resolve(e.getValue().asText());
            Tensor t = Npy.read(f);
            if (t.rank() != 1 || (t.dtype() != DType.I32 && t.dtype() != DType.I64)) {
                throw new FormatException(f + ": ROI '" + e.getKey() + "' must be a 1-D int32 array of voxel indices, got " + t.shapeString());
            }
            int[] idx = t.toIntArray();
            for (int i = 0; i < idx.length; i++) {
                if (idx[i] < 0 || idx[i] >= voxels) throw new FormatException(f + ": voxel index " + idx[i] + " outside [0, " + voxels + ")");
                if (i > 0 && idx[i] <= idx[i - 1]) throw new FormatException(f + ": voxel indices must be strictly increasing (at position " + i + ")");
            }
            if (idx.length == 0) throw new FormatException(f + ": ROI '" + e.getKey() + "' is empty");
            out.put(e.getKey(), idx);
        }
        return Collections.unmodifiableMap(out);
    }

    private static Map<String, Tensor> readStats(Path dir, JsonNode node, int voxels, Path metaFile) {
        Map<String, Tensor> out = new TreeMap<>();
        if (node.isMissingNode() || node.isNull()) return out;
        if (!node.isObject()) throw new FormatException(metaFile + ": \"voxel_stats\" must be an object {name: file}");
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            Path f = dir.resolve(e.getValue().asText());
            Tensor t = Npy.read(f);
            if (t.rank() != 1 || t.dim(0) != voxels || !t.dtype().isFloating()) {
                throw new FormatException(f + ": statistic '" + e.getKey() + "' must be a float array of " + voxels + " voxels, got " + t.shapeString());
            }
            out.put(e.getKey(), t.toF32());
        }
        return Collections.unmodifiableMap(out);
    }

    private static Map<Integer, List<String>> readCaptions(Path dir, JsonNode meta, List<Trial> trials) {
        Map<Integer, List<String>> out = new HashMap<>();
        JsonNode name = meta.get("captions");
        if (name == null || name.isNull()) return out;
        Path f = dir.resolve(name.asText());
        if (!Files.isRegularFile(f)) throw new FormatException(f + ": captions file named in " + META + " is missing");
        JsonNode root = Json.read(f);
        if (!root.isObject()) throw new FormatException(f + ": must be a JSON object {\"image id\": [captions]}");
        Set<Integer> ids = new java.util.HashSet<>(trials.stream().map(Trial::imageId).toList());
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id = parseInt(e.getKey(), "image id", f.toString());
            if (!ids.contains(id)) throw new FormatException(f + ": captions for image " + id + ", which no trial shows");
            if (!e.getValue().isArray()) throw new FormatException(f + ": captions of image " + id + " must be a list of strings");
            List<String> list = new ArrayList<>();
            for (JsonNode c : e.getValue()) {
                if (!c.isTextual()) throw new FormatException(f + ": caption of image " + id + " is not a string: " + c);
                list.add(c.asText());
            }
            out.put(id, List.copyOf(list));
        }
        return out;
    }

    private static VolumeGeometry readGeometry(Path dir, JsonNode meta, int voxels, Path metaFile) {
        JsonNode name = meta.get("geometry");
        if (name == null || name.isNull()) return null;
        Path f = dir.resolve(name.asText());
        if (!Files.isRegularFile(f)) throw new FormatException(f + ": geometry file named in " + META + " is missing");
        JsonNode g = Json.read(f);
        JsonNode dims = g.path("dims"), aff = g.path("affine");
        if (!dims.isArray() || dims.size() != 3) throw new FormatException(f + ": \"dims\" must be [X, Y, Z], got " + dims);
        if (!aff.isArray() || aff.size() != 16) throw new FormatException(f + ": \"affine\" must be 16 numbers (4×4 row-major), got " + aff);
        int[] d = new int[3];
        for (int i = 0; i < 3; i++) d[i] = dims.get(i).asInt();
        double[] a = new double[16];
        for (int i = 0; i < 16; i++) a[i] = aff.get(i).asDouble();
        Path maskFile = dir.resolve(g.path("mask").asText(GEOMETRY_MASK));
        Tensor mask = Npy.read(maskFile);
        if (mask.rank() != 1 || mask.dim(0) != voxels || (mask.dtype() != DType.I32 && mask.dtype() != DType.I64)) {
            throw new FormatException(maskFile + ": must be a 1-D int32 array of " + voxels + " grid indices, got " + mask.shapeString());
        }
        try {
            return new VolumeGeometry(d, a, mask.toIntArray());
        } catch (IllegalArgumentException e) {
            throw new FormatException(f + ": " + e.getMessage());
        }
    }

    /** A NaN or infinite response (a voxel outside the brain mask, a failed fit) poisons every regression. */
    private static void checkFinite(Tensor responses, Path file) {
        int trials = responses.dimInt(0), voxels = responses.dimInt(1);
        float[] row = new float[voxels];
        MemorySegment seg = responses.segment();
        for (int t = 0; t < trials; t++) {
            MemorySegment.copy(seg, Tensor.F32, (long) t * voxels * 4, row, 0, voxels);
            for (int v = 0; v < voxels; v++) {
                if (!Float.isFinite(row[v])) {
                    throw new FormatException(file + ": voxel " + v + " is " + row[v] + " in trial " + t + " (drop or fill such voxels when importing)");
                }
            }
        }
    }

    /** The same data set after its directory was renamed (the mapped responses follow the file). */
    Dataset movedTo(Path newDir) {
        return new Dataset(newDir, meta, responses, trials, rois, stats, captions, imageSize, geometry);
    }

    // ------------------------------------------------------------------ accessors

    public Path dir() { return dir; }
    public String name() { return meta.get("name").asText(); }
    public String subject() { return meta.path("subject").asText(""); }
    public int voxels() { return responses.dimInt(1); }

    /** Trials × voxels, f32 (a read-only memory-mapped view for float32 files). */
    public Tensor responses() { return responses; }

    public List<Trial> trials() { return trials; }

    public List<Trial> trials(Split split) {
        return trials.stream().filter(t -> t.split() == split).toList();
    }

    /** Distinct image ids of a split, in order of first appearance. */
    public List<Integer> imageIds(Split split) {
        LinkedHashSet<Integer> ids = new LinkedHashSet<>();
        for (Trial t : trials) if (t.split() == split) ids.add(t.imageId());
        return List.copyOf(ids);
    }

    public Set<String> roiNames() { return rois.keySet(); }

    /** Voxel indices (increasing) of the named ROI. */
    public int[] roi(String name) {
        int[] r = rois.get(name);
        if (r == null) {
            throw new IllegalArgumentException("unknown ROI '" + name + "' in data set " + name() + "; known: "
                    + (rois.isEmpty() ? "(none)" : String.join(", ", rois.keySet())));
        }
        return r.clone();
    }

    /** {C, H, W} of every stimulus. */
    public int[] imageSize() { return imageSize.clone(); }

    /** Image {@code imageId} as (C,H,W) f32 in [0,1]. */
    public Tensor stimulus(int imageId) {
        Path f = stimulusFile(dir, imageId);
        if (!Files.isRegularFile(f)) throw new IllegalArgumentException("no stimulus for image " + imageId + " in " + dir);
        Tensor img = StimulusFiles.read(f);
        checkSize(img, imageSize, f);
        return img;
    }

    public boolean hasCaptions() { return !captions.isEmpty(); }

    public List<String> captions(int imageId) {
        return captions.getOrDefault(imageId, List.of());
    }

    public Set<String> voxelStatNames() { return stats.keySet(); }

    public Optional<Tensor> voxelStat(String name) {
        return Optional.ofNullable(stats.get(name));
    }

    /** Where the voxels sit in the subject's volume, when the source had one (NSD import, the synthetic brain). */
    public Optional<VolumeGeometry> geometry() {
        return Optional.ofNullable(geometry);
    }

    /** dataset.json as read (provenance, importer options). */
    public JsonNode metadata() { return meta; }

    /** Per-image means of the repeated trials of a split; rows follow {@link #imageIds(Split)}. */
    public Averaged average(Split split) {
        List<Integer> ids = imageIds(split);
        Map<Integer, Integer> row = new LinkedHashMap<>();
        for (int i = 0; i < ids.size(); i++) row.put(ids.get(i), i);
        int v = voxels();
        float[] sum = new float[Math.multiplyExact(ids.size(), v)];
        int[] count = new int[ids.size()];
        float[] buf = new float[v];
        MemorySegment seg = responses.segment();
        for (Trial t : trials) {
            if (t.split() != split) continue;
            int r = row.get(t.imageId());
            MemorySegment.copy(seg, Tensor.F32, (long) t.index() * v * 4, buf, 0, v);
            int off = r * v;
            for (int j = 0; j < v; j++) sum[off + j] += buf[j];
            count[r]++;
        }
        for (int r = 0; r < count.length; r++) {
            float inv = 1f / count[r];
            for (int j = 0, off = r * v; j < v; j++) sum[off + j] *= inv;
        }
        return new Averaged(ids.stream().mapToInt(Integer::intValue).toArray(), Tensor.of(sum, ids.size(), v));
    }
}
