package brain2img.report;

import brain2img.data.VolumeGeometry;
import brain2img.encode.EncodeRun;
import brain2img.eval.Stats;
import brain2img.io.AtomicFiles;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The encoding analysis as one self-contained HTML page (RUN/report.html): the ROI × space table of median r and
 * fraction of significant voxels, per space an axial slice montage of r in the subject's grid (or, without a volume
 * geometry, a bar chart of median r per ROI), the winner-per-voxel map, and the unique-variance table.
 */
public final class EncodeReport {
    /** At most this many axial slices per montage, evenly spaced over those holding voxels. */
    static final int MAX_SLICES = 16;
    /** Each slice is enlarged (nearest neighbour) to at least this many pixels on its short side. */
    static final int MIN_SLICE_PIXELS = 72;
    static final int BACKGROUND = 0x5a5a5a, NONE = 0xd0d0d0;

    private EncodeReport() {}

    public static void write(Path file, EncodeRun.Result r, Map<String, ?> settings) throws IOException {
        AtomicFiles.write(file, render(r, settings).getBytes(StandardCharsets.UTF_8));
    }

    public static String render(EncodeRun.Result r, Map<String, ?> settings) {
        StringBuilder h = new StringBuilder(1 << 16);
        String title = "brain2img encoding analysis: " + r.dataset();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(esc(title)).append("</title>\n<style>")
                .append("body{font-family:sans-serif;margin:16px;color:#222;background:#fff}")
                .append("table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px}")
                .append("th{background:#f3f3f3}.num{text-align:right;font-variant-numeric:tabular-nums}.note{color:#555;font-size:13px}")
                .append(".swatch{display:inline-block;width:12px;height:12px;margin:0 4px 0 10px;vertical-align:middle}h2{margin-top:28px}</style></head><body>\n");
        h.append("<h1>").append(esc(title)).append("</h1>\n<p class=\"note\">").append(r.voxels().length)
                .append(" voxels. Per voxel and space: Pearson r of the test predictions with the test responses averaged over repetitions; ")
                .append("significant = Benjamini–Hochberg q ≤ ").append(EncodeRun.Q).append(".</p>\n");
        roiTable(h, r);
        for (EncodeRun.SpaceMap m : r.maps()) {
            h.append("<h2>").append(esc(m.space().name())).append("</h2>\n<p class=\"note\">median r ").append(fmt(Stats.median(m.r())))
                    .append(", ").append(m.significant()).append(" of ").append(m.r().length).append(" voxels significant</p>\n");
            if (r.geometry().isPresent()) h.append(montage(r, r.geometry().get(), rColours(m.r()), m.space().name() + " r")).append(rLegend(m.r()));
            else h.append(roiBars(r, m));
        }
        winner(h, r);
        unique(h, r);
        h.append("<h2>Settings</h2>\n<table>");
        for (Map.Entry<String, ?> e : settings.entrySet()) {
            h.append("<tr><td>").append(esc(e.getKey())).append("</td><td>").append(esc(String.valueOf(e.getValue()))).append("</td></tr>");
        }
        h.append("</table>\n</body></html>\n");
        return h.toString();
    }

    private static void roiTable(StringBuilder h, EncodeRun.Result r) {
        h.append("<h2>ROIs</h2>\n<table><tr><th>ROI</th><th>voxels</th>");
        for (EncodeRun.SpaceMap m : r.maps()) h.append("<th>").append(esc(m.space().name())).append("<br>median r / % sig.</th>");
        h.append("</tr>\n");
        for (String roi : r.roiMembers().keySet()) {
            h.append("<tr><td>").append(esc(roi)).append("</td><td class=\"num\">").append(r.roiMembers().get(roi).length).append("</td>");
            double best = Double.NEGATIVE_INFINITY;
            for (EncodeRun.RoiRow row : rows(r, roi)) best = Math.max(best, row.medianR());
            for (EncodeRun.RoiRow row : rows(r, roi)) {
                boolean top = row.medianR() == best;
                h.append("<td class=\"num\">").append(top ? "<b>" : "").append(fmt(row.medianR())).append(top ? "</b>" : "")
                        .append(" / ").append(String.format(Locale.ROOT, "%.0f%%", 100 * row.fractionSignificant())).append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
    }

    private static List<EncodeRun.RoiRow> rows(EncodeRun.Result r, String roi) {
        return r.rois().stream().filter(x -> x.roi().equals(roi)).toList();
    }

    // ---------------------------------------------------------------- volumes

    /** r → RGB: positive black→red→yellow, negative black→blue→cyan, scaled to the 99th percentile of |r| (at least 0.1). */
    private static int[] rColours(double[] r) {
        double vmax = scale(r);
        int[] c = new int[r.length];
        for (int j = 0; j < r.length; j++) {
            double t = Math.max(-1, Math.min(1, r[j] / vmax));
            int a = (int) Math.round(255 * Math.min(1, 2 * Math.abs(t))), b = (int) Math.round(255 * Math.max(0, 2 * Math.abs(t) - 1));
            c[j] = t >= 0 ? (a << 16) | (b << 8) : (b << 8) | a;
        }
        return c;
    }

    private static double scale(double[] r) {
        double[] a = Arrays.stream(r).map(Math::abs).sorted().toArray();
        return Math.max(0.1, a[(int) Math.min(a.length - 1, Math.floor(0.99 * a.length))]);
    }

    private static String rLegend(double[] r) {
        return "<p class=\"note\">colour: r from −" + fmt(scale(r)) + " (cyan) through 0 (black) to +" + fmt(scale(r))
                + " (yellow); grey: no analysed voxel. Axial slices, inferior to superior, anterior up.</p>\n";
    }

    /** Axial (z) slices of the grid holding analysed voxels, side by side; x to the right, y (posterior→anterior) upwards. */
    static String montage(EncodeRun.Result r, VolumeGeometry g, int[] colour, String alt) {
        int[] d = g.dims(), all = g.voxelIndex();
        int[] grid = new int[r.voxels().length];
        for (int j = 0; j < grid.length; j++) grid[j] = all[r.voxels()[j]];
        boolean[] used = new boolean[d[2]];
        for (int i : grid) used[i / (d[0] * d[1])] = true;
        List<Integer> slices = new ArrayList<>();
        for (int z = 0; z < d[2]; z++) if (used[z]) slices.add(z);
        if (slices.size() > MAX_SLICES) {
            List<Integer> pick = new ArrayList<>();
            for (int k = 0; k < MAX_SLICES; k++) pick.add(slices.get(k * (slices.size() - 1) / (MAX_SLICES - 1)));
            slices = pick;
        }
        int scale = Math.max(1, (MIN_SLICE_PIXELS + Math.min(d[0], d[1]) - 1) / Math.min(d[0], d[1]));
        int sw = d[0] * scale, sh = d[1] * scale, gap = 2;
        BufferedImage im = new BufferedImage(slices.size() * (sw + gap), sh, BufferedImage.TYPE_INT_RGB);
        for (int x = 0; x < im.getWidth(); x++) for (int y = 0; y < sh; y++) im.setRGB(x, y, 0xffffff);
        int[] vol = new int[g.gridSize()];
        Arrays.fill(vol, BACKGROUND);
        for (int j = 0; j < grid.length; j++) vol[grid[j]] = colour[j];
        for (int s = 0; s < slices.size(); s++) {
            int z = slices.get(s), x0 = s * (sw + gap);
            for (int py = 0; py < sh; py++) {
                int y = d[1] - 1 - py / scale; // anterior up
                for (int px = 0; px < sw; px++) im.setRGB(x0 + px, py, vol[px / scale + d[0] * (y + d[1] * z)]);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(im, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return "<img alt=\"" + esc(alt) + "\" width=\"" + im.getWidth() + "\" height=\"" + im.getHeight() + "\" src=\"data:image/png;base64,"
                + Base64.getEncoder().encodeToString(out.toByteArray()) + "\"><br>\n";
    }

    // ---------------------------------------------------------------- without geometry: ROI bar charts

    /** SVG bars of median r per ROI for one space. */
    static String roiBars(EncodeRun.Result r, EncodeRun.SpaceMap m) {
        List<EncodeRun.RoiRow> rows = r.rois().stream().filter(x -> x.space().equals(m.space().name())).toList();
        double max = Math.max(0.05, rows.stream().mapToDouble(x -> Math.abs(x.medianR())).max().orElse(0.05));
        int bar = 18, label = 110, width = 320, h = rows.size() * bar + 10;
        StringBuilder s = new StringBuilder("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + (label + width + 60) + "\" height=\"" + h + "\">");
        int zero = label + width / 2;
        s.append("<line x1=\"").append(zero).append("\" y1=\"0\" x2=\"").append(zero).append("\" y2=\"").append(h).append("\" stroke=\"#999\"/>");
        for (int i = 0; i < rows.size(); i++) {
            EncodeRun.RoiRow row = rows.get(i);
            double len = row.medianR() / max * (width / 2.0);
            int y = 5 + i * bar;
            s.append(String.format(Locale.ROOT, "<text x=\"0\" y=\"%d\" font-size=\"12\">%s</text>", y + 12, esc(row.roi())));
            s.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>", len >= 0 ? zero : zero + len, y,
                    Math.abs(len), bar - 4, len >= 0 ? "#d62728" : "#1f77b4"));
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\">%s</text>", label + width + 4, y + 12, fmt(row.medianR())));
        }
        return s.append("</svg>\n").toString();
    }

    // ---------------------------------------------------------------- winner and unique variance

    private static void winner(StringBuilder h, EncodeRun.Result r) {
        h.append("<h2>Winning space per voxel</h2>\n<p class=\"note\">the space with the highest r among those significant at the voxel; ")
                .append("light grey: none significant.</p>\n");
        int[] colour = new int[r.winner().length];
        for (int j = 0; j < colour.length; j++) colour[j] = r.winner()[j] < 0 ? NONE : Integer.parseInt(palette(r.winner()[j]).substring(1), 16);
        StringBuilder legend = new StringBuilder("<p>");
        for (int s = 0; s < r.maps().size(); s++) {
            legend.append("<span class=\"swatch\" style=\"background:").append(palette(s)).append("\"></span>").append(esc(r.maps().get(s).space().name()));
        }
        legend.append("<span class=\"swatch\" style=\"background:#d0d0d0\"></span>none</p>\n");
        if (r.geometry().isPresent()) h.append(montage(r, r.geometry().get(), colour, "winner per voxel"));
        h.append(legend);
        h.append("<table><tr><th>ROI</th>");
        for (EncodeRun.SpaceMap m : r.maps()) h.append("<th>").append(esc(m.space().name())).append("</th>");
        h.append("<th>none</th></tr>\n");
        for (Map.Entry<String, int[]> e : r.roiMembers().entrySet()) {
            int[] count = new int[r.maps().size() + 1];
            for (int j : e.getValue()) count[r.winner()[j] < 0 ? r.maps().size() : r.winner()[j]]++;
            h.append("<tr><td>").append(esc(e.getKey())).append("</td>");
            for (int c : count) h.append("<td class=\"num\">").append(String.format(Locale.ROOT, "%.0f%%", 100.0 * c / e.getValue().length)).append("</td>");
            h.append("</tr>\n");
        }
        h.append("</table>\n");
    }

    private static void unique(StringBuilder h, EncodeRun.Result r) {
        if (r.uniques().isEmpty()) return;
        h.append("<h2>Unique variance</h2>\n<p class=\"note\">median over each ROI's voxels of R²(A+B) − R²(B) (unique to A) and R²(A+B) − R²(A) ")
                .append("(unique to B), test-set R², joint model = banded ridge with a per-voxel band ratio.</p>\n<table><tr><th>ROI</th>");
        for (EncodeRun.Unique u : r.uniques()) {
            h.append("<th>").append(esc(u.a())).append(" over ").append(esc(u.b())).append("</th><th>").append(esc(u.b())).append(" over ").append(esc(u.a())).append("</th>");
        }
        h.append("</tr>\n");
        for (Map.Entry<String, int[]> e : r.roiMembers().entrySet()) {
            h.append("<tr><td>").append(esc(e.getKey())).append("</td>");
            for (EncodeRun.Unique u : r.uniques()) {
                h.append("<td class=\"num\">").append(fmt(Stats.median(pick(u.uniqueA(), e.getValue())))).append("</td><td class=\"num\">")
                        .append(fmt(Stats.median(pick(u.uniqueB(), e.getValue())))).append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
    }

    private static double[] pick(double[] v, int[] idx) {
        return Arrays.stream(idx).mapToDouble(j -> v[j]).toArray();
    }

    private static String palette(int i) {
        return HtmlReport.PALETTE[i % HtmlReport.PALETTE.length];
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.3f", v);
    }

    private static String esc(String s) {
        return HtmlReport.esc(s);
    }
}
