package brain2img.data;

import brain2img.tensor.Tensor;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/** The summary {@code brain2img data info} prints, as text or as a JSON-able map. */
public final class DatasetInfo {
    private DatasetInfo() {}

    public static Map<String, Object> summary(Dataset d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", d.name());
        m.put("subject", d.subject());
        m.put("synthetic", d.metadata().path("provenance").path("synthetic").asBoolean(false));
        m.put("importer", d.metadata().path("provenance").path("importer").asText(""));
        m.put("voxels", d.voxels());
        m.put("trials", d.trials().size());
        m.put("train_trials", d.trials(Split.TRAIN).size());
        m.put("test_trials", d.trials(Split.TEST).size());
        m.put("images", d.imageIds(Split.TRAIN).size() + d.imageIds(Split.TEST).size());
        m.put("train_images", d.imageIds(Split.TRAIN).size());
        m.put("test_images", d.imageIds(Split.TEST).size());
        m.put("image_size", d.imageSize());
        m.put("sessions", new TreeSet<>(d.trials().stream().map(Trial::session).toList()));
        m.put("repetitions_train", repetitions(d, Split.TRAIN));
        m.put("repetitions_test", repetitions(d, Split.TEST));
        Map<String, Integer> rois = new LinkedHashMap<>();
        for (String r : d.roiNames()) rois.put(r, d.roi(r).length);
        m.put("rois", rois);
        m.put("captioned_images", d.imageIds(Split.TRAIN).stream().filter(i -> !d.captions(i).isEmpty()).count()
                + d.imageIds(Split.TEST).stream().filter(i -> !d.captions(i).isEmpty()).count());
        Map<String, Double> stats = new LinkedHashMap<>();
        for (String s : d.voxelStatNames()) stats.put(s, median(d.voxelStat(s).orElseThrow()));
        m.put("voxel_stats_median", stats);
        return m;
    }

    /** Presentations per image: {count: images}, e.g. {3: 100} for 100 images shown three times. */
    private static Map<Integer, Integer> repetitions(Dataset d, Split s) {
        Map<Integer, Integer> perImage = new HashMap<>();
        for (Trial t : d.trials(s)) perImage.merge(t.imageId(), 1, Integer::sum);
        Map<Integer, Integer> hist = new java.util.TreeMap<>();
        for (int c : perImage.values()) hist.merge(c, 1, Integer::sum);
        return hist;
    }

    private static double median(Tensor t) {
        float[] v = t.toFloatArray();
        Arrays.sort(v);
        return v.length == 0 ? Double.NaN : v[v.length / 2];
    }

    public static String text(Dataset d) {
        Map<String, Object> m = summary(d);
        StringBuilder sb = new StringBuilder();
        line(sb, "data set", d.name() + " (subject " + d.subject() + ")" + (Boolean.TRUE.equals(m.get("synthetic")) ? "  ** SYNTHETIC DATA **" : ""));
        line(sb, "directory", d.dir().toString());
        line(sb, "importer", String.valueOf(m.get("importer")));
        line(sb, "voxels", String.valueOf(d.voxels()));
        line(sb, "trials", "train " + m.get("train_trials") + ", test " + m.get("test_trials") + "; sessions " + compact((java.util.Set<?>) m.get("sessions")));
        int[] s = d.imageSize();
        line(sb, "images", "train " + m.get("train_images") + ", test " + m.get("test_images") + "; stimuli " + s[0] + "×" + s[1] + "×" + s[2] + (s[0] == 1 ? " grey" : " RGB"));
        line(sb, "repeats", "train " + fmtReps(m.get("repetitions_train")) + "; test " + fmtReps(m.get("repetitions_test")));
        StringBuilder r = new StringBuilder();
        ((Map<?, ?>) m.get("rois")).forEach((k, v) -> r.append(r.isEmpty() ? "" : ", ").append(k).append(' ').append(v));
        line(sb, "ROIs", r.isEmpty() ? "(none)" : r.toString());
        line(sb, "captions", d.hasCaptions() ? m.get("captioned_images") + " images" : "(none)");
        StringBuilder st = new StringBuilder();
        ((Map<?, ?>) m.get("voxel_stats_median")).forEach((k, v) -> st.append(st.isEmpty() ? "" : ", ").append(k)
                .append(String.format(Locale.ROOT, " (median %.3g)", (Double) v)));
        line(sb, "voxel stats", st.isEmpty() ? "(none)" : st.toString());
        JsonNode units = d.metadata().path("provenance").path("units");
        if (!units.isMissingNode()) line(sb, "units", units.asText());
        return sb.toString();
    }

    private static String fmtReps(Object hist) {
        Map<?, ?> h = (Map<?, ?>) hist;
        if (h.isEmpty()) return "-";
        StringBuilder sb = new StringBuilder();
        h.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : ", ").append(v).append(" images shown ").append(k).append("×"));
        return sb.toString();
    }

    private static String compact(java.util.Set<?> sessions) {
        List<Integer> s = sessions.stream().map(o -> (Integer) o).toList();
        if (s.isEmpty()) return "-";
        boolean contiguous = s.get(s.size() - 1) - s.get(0) == s.size() - 1;
        return contiguous ? (s.size() == 1 ? "" + s.get(0) : s.get(0) + "-" + s.get(s.size() - 1)) : s.toString();
    }

    private static void line(StringBuilder sb, String k, String v) {
        sb.append(String.format(Locale.ROOT, "%-12s %s%n", k, v));
    }
}
