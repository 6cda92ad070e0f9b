package brain2img.data;

import brain2img.io.Json;
import brain2img.io.Npy;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Writes a brain2img data set directory (see {@link Dataset} for the layout). Everything goes into a hidden
 * temporary sibling of the target, which {@link #commit()} renames into place, so a crash or an error never
 * leaves a half-written data set where {@link Dataset#open} would look. Responses are streamed row by row to
 * the .npy file, so an importer holds at most what it is converting (one session) in memory.
 *
 * <p>Usage: {@code create} → {@code responses(trials, voxels)} → {@code appendRows} (in trial order) and
 * {@code trial}/{@code stimulus}/{@code roi}/... in any order → {@code commit}; {@code close} without commit
 * deletes the temporary directory.
 */
public final class DatasetWriter implements AutoCloseable {
    static final int FORMAT_VERSION = 1;

    private final Path target;
    private final Path tmp;
    private final ObjectNode meta = Json.MAPPER.createObjectNode();
    private final ObjectNode provenance = Json.MAPPER.createObjectNode();
    private final List<Trial> trials = new ArrayList<>();
    private final Map<String, int[]> rois = new TreeMap<>();
    private final Map<String, float[]> stats = new TreeMap<>();
    private final Map<Integer, List<String>> captions = new TreeMap<>();
    private final Map<Integer, Boolean> stimuli = new TreeMap<>();
    private int[] imageSize;
    private VolumeGeometry geometry;
    private OutputStream responseOut;
    private long trialCount = -1, rowsWritten;
    private int voxels = -1;
    private boolean committed;

    private DatasetWriter(Path target, Path tmp, String name) {
        this.target = target;
        this.tmp = tmp;
        meta.put("format", "brain2img-dataset");
        meta.put("version", FORMAT_VERSION);
        meta.put("name", name);
    }

    /** Starts a data set at {@code dir}, which must not exist or be an empty directory. */
    public static DatasetWriter create(Path dir, String name) throws IOException {
        Path abs = dir.toAbsolutePath().normalize();
        if (Files.exists(abs)) {
            boolean empty;
            try (Stream<Path> s = Files.list(abs)) {
                empty = Files.isDirectory(abs) && s.findAny().isEmpty();
            }
            if (!empty) throw new IllegalArgumentException(dir + ": already exists and is not an empty directory (choose another --out)");
        }
        Path parent = abs.getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempDirectory(parent, "." + abs.getFileName() + ".");
        Files.createDirectories(tmp.resolve(Dataset.STIMULI_DIR));
        return new DatasetWriter(abs, tmp, name);
    }

    public DatasetWriter subject(String subject) {
        meta.put("subject", subject);
        return this;
    }

    /** Adds a provenance entry (the importer, its options, conventions chosen); values may be JSON-able objects. */
    public DatasetWriter provenance(String key, Object value) {
        provenance.set(key, Json.MAPPER.valueToTree(value));
        return this;
    }

    /** Opens the response matrix (trials × voxels, float32); rows then follow with {@link #appendRows}. */
    public void responses(long trials, int voxels) throws IOException {
        if (responseOut != null) throw new IllegalStateException("responses already opened");
        if (trials <= 0 || voxels <= 0) throw new IllegalArgumentException("need at least one trial and one voxel, got " + trials + "×" + voxels);
        this.trialCount = trials;
        this.voxels = voxels;
        responseOut = new BufferedOutputStream(Files.newOutputStream(tmp.resolve(Dataset.RESPONSES)), 1 << 20);
        responseOut.write(Npy.header(DType.F32, new long[]{trials, voxels}));
    }

    /** Appends {@code rows.length / voxels} trial rows (row-major). */
    public void appendRows(float[] rows) throws IOException {
        if (responseOut == null) throw new IllegalStateException("call responses(trials, voxels) first");
        if (rows.length % voxels != 0) throw new IllegalArgumentException(rows.length + " values are not whole rows of " + voxels + " voxels");
        long n = rows.length / voxels;
        if (rowsWritten + n > trialCount) throw new IllegalStateException("more than the " + trialCount + " announced rows");
        ByteBuffer buf = ByteBuffer.allocate(Math.min(rows.length, 1 << 18) * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < rows.length; ) {
            buf.clear();
            int m = Math.min(rows.length - i, buf.capacity() / 4);
            buf.asFloatBuffer().put(rows, i, m);
            responseOut.write(buf.array(), 0, m * 4);
            i += m;
        }
        rowsWritten += n;
    }

    public void trial(Trial t) {
        if (t.index() != trials.size()) throw new IllegalArgumentException("trial " + t.index() + " written out of order (expected " + trials.size() + ")");
        trials.add(t);
    }

    /** Writes image {@code imageId} as (C,H,W) in [0,1]; every stimulus must have the same size. */
    public void stimulus(int imageId, Tensor chw) throws IOException {
        int[] size = {chw.dimInt(0), chw.dimInt(1), chw.dimInt(2)};
        if (imageSize == null) imageSize = size;
        else if (!Arrays.equals(imageSize, size)) {
            throw new IllegalArgumentException("stimulus " + imageId + " is " + Arrays.toString(size) + " but earlier ones are " + Arrays.toString(imageSize));
        }
        if (stimuli.put(imageId, true) != null) throw new IllegalArgumentException("stimulus " + imageId + " written twice");
        StimulusFiles.write(tmp.resolve(Dataset.STIMULI_DIR).resolve(imageId + ".png"), chw);
    }

    /** A named ROI as voxel indices (stored sorted). */
    public void roi(String name, int[] voxelIndices) {
        if (!name.matches("[A-Za-z0-9_.+-]+")) throw new IllegalArgumentException("ROI name '" + name + "' must be letters, digits, _ . + -");
        int[] s = voxelIndices.clone();
        Arrays.sort(s);
        rois.put(name, s);
    }

    public void captions(int imageId, List<String> list) {
        if (!list.isEmpty()) captions.put(imageId, List.copyOf(list));
    }

    /** A per-voxel statistic such as {@code noise_ceiling}. */
    public void voxelStat(String name, float[] values) {
        if (!name.matches("[A-Za-z0-9_]+")) throw new IllegalArgumentException("statistic name '" + name + "' must be letters, digits, _");
        stats.put(name, values.clone());
    }

    /** Where the voxels sit in the subject's volume (written as geometry.json + geometry/mask.npy). */
    public void geometry(VolumeGeometry g) {
        this.geometry = g;
    }

    /** Writes the tables and dataset.json, then moves the directory into place. Validates it by reopening. */
    public Dataset commit() throws IOException {
        if (responseOut == null) throw new IllegalStateException("no responses were written");
        responseOut.close();
        responseOut = null;
        if (rowsWritten != trialCount) throw new IllegalStateException(rowsWritten + " response rows written, " + trialCount + " announced");
        if (trials.size() != trialCount) throw new IllegalStateException(trials.size() + " trials listed, " + trialCount + " response rows");
        if (imageSize == null) throw new IllegalStateException("no stimuli were written");
        writeTrials();
        ObjectNode roiNode = meta.putObject("rois");
        for (Map.Entry<String, int[]> e : rois.entrySet()) {
            String file = Dataset.ROI_DIR + "/" + e.getKey() + ".npy";
            Npy.write(tmp.resolve(file), Tensor.ofInts(e.getValue(), e.getValue().length));
            roiNode.put(e.getKey(), file);
        }
        ObjectNode statNode = meta.putObject("voxel_stats");
        for (Map.Entry<String, float[]> e : stats.entrySet()) {
            String file = Dataset.STATS_DIR + "/" + e.getKey() + ".npy";
            Npy.write(tmp.resolve(file), Tensor.of(e.getValue(), e.getValue().length));
            statNode.put(e.getKey(), file);
        }
        if (!captions.isEmpty()) {
            Map<String, List<String>> byKey = new LinkedHashMap<>();
            captions.forEach((k, v) -> byKey.put(Integer.toString(k), v));
            Json.write(tmp.resolve(Dataset.CAPTIONS), byKey);
            meta.put("captions", Dataset.CAPTIONS);
        }
        if (geometry != null) {
            if (geometry.voxelIndex().length != voxels) {
                throw new IllegalStateException("geometry lists " + geometry.voxelIndex().length + " voxels, the responses have " + voxels);
            }
            Npy.write(tmp.resolve(Dataset.GEOMETRY_MASK), Tensor.ofInts(geometry.voxelIndex(), voxels));
            ObjectNode g = Json.MAPPER.createObjectNode();
            ArrayNode dims = g.putArray("dims");
            for (int d : geometry.dims()) dims.add(d);
            ArrayNode aff = g.putArray("affine");
            for (double a : geometry.affine()) aff.add(a);
            g.put("mask", Dataset.GEOMETRY_MASK);
            g.put("mask_order", "grid index x + X*(y + Y*z) of each voxel column (Fortran order, as NIfTI data)");
            Json.write(tmp.resolve(Dataset.GEOMETRY), g);
            meta.put("geometry", Dataset.GEOMETRY);
        }
        long distinct = trials.stream().mapToInt(Trial::imageId).distinct().count();
        meta.put("voxels", voxels);
        meta.put("trials", trialCount);
        meta.put("images", distinct);
        ArrayNode size = meta.putArray("image_size");
        for (int s : imageSize) size.add(s);
        meta.put("responses", Dataset.RESPONSES);
        meta.put("trial_table", Dataset.TRIALS);
        meta.put("stimuli", Dataset.STIMULI_DIR + "/{image_id}.png");
        meta.set("provenance", provenance);
        Json.write(tmp.resolve(Dataset.META), meta);
        Dataset checked = Dataset.open(tmp); // never move an invalid data set into place
        if (Files.isDirectory(target)) Files.delete(target); // known empty (checked in create)
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        committed = true;
        return checked.movedTo(target);
    }

    private void writeTrials() throws IOException {
        StringBuilder sb = new StringBuilder(Dataset.TRIAL_HEADER).append('\n');
        for (Trial t : trials) {
            sb.append(t.index()).append(',').append(t.imageId()).append(',').append(t.session()).append(',')
                    .append(t.repetition()).append(',').append(t.split().lower()).append('\n');
        }
        Files.writeString(tmp.resolve(Dataset.TRIALS), sb, StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        if (committed) return;
        if (responseOut != null) responseOut.close();
        if (Files.exists(tmp)) {
            try (Stream<Path> s = Files.walk(tmp)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> {
                    try {
                        Files.delete(p);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
        }
    }

    /**
     * Writes {@code src} with one trial per image, the mean of its repeated trials ({@link Dataset#average}):
     * train images first, then test, each in order of first appearance; session = that of the first showing.
     */
    public static Dataset writeAveraged(Dataset src, Path out) throws IOException {
        try (DatasetWriter w = create(out, src.name() + "-averaged")) {
            if (!src.subject().isEmpty()) w.subject(src.subject());
            w.provenance.setAll((ObjectNode) src.metadata().path("provenance").deepCopy());
            w.provenance("averaged_from", src.dir().toAbsolutePath().toString());
            Averaged train = src.average(Split.TRAIN), test = src.average(Split.TEST);
            w.responses(train.imageIds().length + test.imageIds().length, src.voxels());
            Map<Integer, Integer> firstSession = new java.util.HashMap<>();
            for (Trial t : src.trials()) firstSession.putIfAbsent(t.imageId(), t.session());
            int index = 0;
            for (Averaged a : List.of(train, test)) {
                if (a.imageIds().length > 0) w.appendRows(a.responses().floats());
                Split split = a == train ? Split.TRAIN : Split.TEST;
                for (int id : a.imageIds()) {
                    w.trial(new Trial(index++, id, firstSession.get(id), 0, split));
                    w.stimulus(id, src.stimulus(id));
                    w.captions(id, src.captions(id));
                }
            }
            for (String r : src.roiNames()) w.roi(r, src.roi(r));
            for (String s : src.voxelStatNames()) w.voxelStat(s, src.voxelStat(s).orElseThrow().toFloatArray());
            src.geometry().ifPresent(w::geometry);
            return w.commit();
        }
    }
}
