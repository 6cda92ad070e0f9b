package brain2img.report;

import brain2img.eval.AuditResult;
import brain2img.eval.Metrics;
import brain2img.eval.NetMetric;
import brain2img.eval.Picture;
import brain2img.eval.PublishedNsd;
import brain2img.eval.Stats;
import brain2img.io.AtomicFiles;
import brain2img.io.Json;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One self-contained HTML page per run: pictures inlined as base64 PNG, plots as inline SVG, no external
 * resources (no scripts, fonts or style sheets), so it opens anywhere and can be archived as one file.
 *
 * <p>Sections: the picture grid (ground truth | reconstructions | nulls), the field's metric table (this run's
 * kinds and nulls in the columns published tables use, the published NSD values below them, labelled as such),
 * the metric tables with 95% CIs and p-values against each of the kind's own nulls ({@link AuditResult#nullsOf}), per-image
 * score plots against them, the optimistic best-of-K bound and the memorisation check, and the settings and versions.
 */
public final class HtmlReport {
    /** Pictures shown per image: at most this many samples of each column. */
    static final int MAX_SAMPLES_SHOWN = 4;
    /** Grid rows: at most this many test images. */
    static final int MAX_ROWS = 30;
    /** Small pictures are enlarged (nearest neighbour) to at least this many pixels on the short side. */
    static final int MIN_PIXELS = 96;
    static final String[] PALETTE = {"#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#7f7f7f", "#bcbd22"};
    static final List<String> PLOTTED = List.of("pixcorr", "ssim", "twoway_pixel");

    private record Column(String label, Picture[][] pictures) {}

    private final String title;
    private Picture[] truth = new Picture[0];
    private int[] imageIds = new int[0];
    private final List<Column> columns = new ArrayList<>();
    /** An audit and the method it scored (null label: the only one, shown unlabelled). */
    private record Labelled(String method, AuditResult result) {
        String label(String name) {
            return method == null ? name : method + ": " + name;
        }
    }

    private final List<Labelled> audits = new ArrayList<>();
    private final Map<String, Object> settings = new LinkedHashMap<>();

    public HtmlReport(String title) {
        this.title = title;
    }

    public HtmlReport groundTruth(Picture[] pictures, int[] ids) {
        if (pictures.length != ids.length) throw new IllegalArgumentException(pictures.length + " pictures for " + ids.length + " image ids");
        this.truth = pictures.clone();
        this.imageIds = ids.clone();
        return this;
    }

    /** A grid column (a reconstruction kind or a null): {@code pictures[image][sample]}. */
    public HtmlReport column(String label, Picture[][] pictures) {
        if (pictures.length != truth.length) {
            throw new IllegalArgumentException("column " + label + " has " + pictures.length + " images, the ground truth " + truth.length);
        }
        columns.add(new Column(label, pictures));
        return this;
    }

    public HtmlReport audit(AuditResult result) {
        return audit(null, result);
    }

    /**
     * An audit of one method; with several, the field table holds every method's rows and each gets its own
     * metric tables and plots (each method's p-values only against its own nulls), all labelled by method.
     */
    public HtmlReport audit(String method, AuditResult result) {
        audits.add(new Labelled(method, result));
        return this;
    }

    public HtmlReport settings(Map<String, ?> values) {
        settings.putAll(values);
        return this;
    }

    public void write(Path file) throws IOException {
        AtomicFiles.write(file, render().getBytes(StandardCharsets.UTF_8));
    }

    public String render() {
        StringBuilder h = new StringBuilder(1 << 16);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(esc(title)).append("</title>\n<style>")
                .append("body{font-family:sans-serif;margin:16px;color:#222;background:#fff}")
                .append("table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px}")
                .append("th{background:#f3f3f3}.grid td{text-align:center;vertical-align:top}.grid img{display:inline-block;margin:1px}")
                .append(".num{text-align:right;font-variant-numeric:tabular-nums}.note{color:#555;font-size:13px}")
                .append(".sig{font-weight:bold}h2{margin-top:28px}</style></head><body>\n");
        h.append("<h1>").append(esc(title)).append("</h1>\n");
        if (!audits.isEmpty()) h.append("<p class=\"note\">").append(audits.get(0).result().images()).append(" test images. Headline numbers are means over all samples; ")
                .append("intervals are 95% bootstrap CIs over images; p-values are one-sided paired permutation tests against each null.</p>\n");
        grid(h);
        if (!audits.isEmpty()) {
            fieldTable(h);
            for (Labelled a : audits) metricTables(h, a);
            for (Labelled a : audits) plots(h, a);
            for (Labelled a : audits) bestOfK(h, a);
        }
        settingsTable(h);
        h.append("</body></html>\n");
        return h.toString();
    }

    // ---------------------------------------------------------------- grid

    private void grid(StringBuilder h) {
        if (truth.length == 0) return;
        h.append("<h2>Reconstructions</h2>\n<table class=\"grid\"><tr><th>image</th><th>ground truth</th>");
        for (Column c : columns) h.append("<th>").append(esc(c.label())).append("</th>");
        h.append("</tr>\n");
        int rows = Math.min(truth.length, MAX_ROWS);
        for (int i = 0; i < rows; i++) {
            h.append("<tr><td>").append(imageIds[i]).append("</td><td>").append(img(truth[i], "ground truth " + imageIds[i])).append("</td>");
            for (Column c : columns) {
                h.append("<td>");
                Picture[] samples = c.pictures()[i];
                for (int s = 0; s < Math.min(samples.length, MAX_SAMPLES_SHOWN); s++) {
                    h.append(img(samples[s], c.label() + " " + imageIds[i] + " sample " + s));
                }
                if (samples.length > MAX_SAMPLES_SHOWN) h.append("<br><span class=\"note\">+").append(samples.length - MAX_SAMPLES_SHOWN).append(" more</span>");
                h.append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
        if (truth.length > rows) h.append("<p class=\"note\">first ").append(rows).append(" of ").append(truth.length).append(" test images shown</p>\n");
    }

    /** An {@code <img>} with the picture as an inline PNG, enlarged with nearest neighbour if small. */
    static String img(Picture p, String alt) {
        int scale = Math.max(1, (MIN_PIXELS + Math.min(p.height(), p.width()) - 1) / Math.min(p.height(), p.width()));
        BufferedImage im = toImage(p, scale);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(im, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return "<img alt=\"" + esc(alt) + "\" width=\"" + im.getWidth() + "\" height=\"" + im.getHeight()
                + "\" src=\"data:image/png;base64," + Base64.getEncoder().encodeToString(out.toByteArray()) + "\">";
    }

    /** [0,1] picture → 8-bit RGB (grey repeated), each pixel a scale×scale block; values clamped. */
    static BufferedImage toImage(Picture p, int scale) {
        Picture rgb = p.rgb();
        int hh = p.height(), ww = p.width(), plane = hh * ww;
        double[] d = rgb.data();
        BufferedImage im = new BufferedImage(ww * scale, hh * scale, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < hh * scale; y++) {
            for (int x = 0; x < ww * scale; x++) {
                int i = (y / scale) * ww + x / scale;
                im.setRGB(x, y, (byte8(d[i]) << 16) | (byte8(d[plane + i]) << 8) | byte8(d[2 * plane + i]));
            }
        }
        return im;
    }

    private static int byte8(double v) {
        return (int) Math.round(Math.max(0, Math.min(1, v)) * 255);
    }

    // ---------------------------------------------------------------- metric tables

    private void metricTables(StringBuilder h, Labelled la) {
        AuditResult audit = la.result();
        Map<String, Map<String, AuditResult.Summary>> all = audit.summaries();
        for (var kind : audit.kinds()) {
            Map<String, AuditResult.Summary> mine = all.get(kind.name());
            h.append("<h2>Metrics: ").append(esc(la.label(kind.name()))).append(" (").append(kind.samples()).append(kind.samples() == 1 ? " sample" : " samples")
                    .append(" per image)</h2>\n<table><tr><th>metric</th><th>chance</th><th>").append(esc(kind.name())).append("</th>");
            for (var n : audit.nullsOf(kind.name())) h.append("<th>null: ").append(esc(n.name())).append("</th>");
            h.append("</tr>\n");
            for (var m : mine.entrySet()) {
                AuditResult.Summary s = m.getValue();
                h.append("<tr><td title=\"").append(esc(Metrics.describe(m.getKey()))).append("\">").append(esc(m.getKey())).append("</td><td class=\"num\">")
                        .append(Double.isNaN(s.chance()) ? "" : fmt(s.chance())).append("</td><td class=\"num\">").append(interval(s.interval())).append("</td>");
                for (var n : audit.nullsOf(kind.name())) {
                    AuditResult.Summary ns = all.get("nulls." + n.name()).get(m.getKey());
                    h.append("<td class=\"num\">");
                    if (ns != null) h.append(interval(ns.interval()));
                    Double p = s.pValues().get(n.name());
                    if (p != null) h.append("<br><span").append(p < 0.01 ? " class=\"sig\"" : "").append(">p = ").append(fmtP(p)).append("</span>");
                    else if (audit.untested().contains(n.name()) && Metrics.tested(m.getKey())) h.append("<br><span class=\"note\">reference, not tested</span>");
                    h.append("</td>");
                }
                h.append("</tr>\n");
            }
            h.append("</table>\n");
        }
    }

    /** The columns of the published tables, in their order; two-way shown in %, as they print it. */
    static final List<String> FIELD_COLUMNS = List.of("pixcorr", "ssim", "alexnet2", "alexnet5", "inception", "clip", "effnet", "swav");

    private void fieldTable(StringBuilder h) {
        List<String> cols = new ArrayList<>(), takagi = new ArrayList<>();
        for (String c : FIELD_COLUMNS) if (anyEntryHas(c)) cols.add(c);
        for (NetMetric m : NetMetric.TAKAGI) if (anyEntryHas(m.key())) takagi.add(m.key());
        h.append("<h2>The field's metric table</h2>\n<p class=\"note\">This run: mean over images (and samples) with its 95% bootstrap CI; ")
                .append("two-way identification in %, EffNet-B and SwAV as correlation distance (lower is better). ")
                .append("Network metrics follow MindEye2's code (256² bilinear without antialias, then each network's resize and normalisation); ")
                .append("a network missing from the nets folder leaves its column out.</p>\n");
        fieldRows(h, cols, true);
        if (!takagi.isEmpty()) {
            h.append("<p class=\"note\">Takagi &amp; Nishimoto's definitions (Resize(299) + CenterCrop(299), AlexNet features.5/12, Inception flatten, ")
                    .append("per ground truth with r averaged over samples) — compare only with numbers computed the same way.</p>\n");
            fieldRows(h, takagi, false);
        }
    }

    private void fieldRows(StringBuilder h, List<String> cols, boolean published) {
        h.append("<table><tr><th></th>");
        for (String c : cols) {
            NetMetric m = NetMetric.byKey(c);
            String label = m != null ? m.label() : c.equals("pixcorr") ? "PixCorr" : "SSIM";
            h.append("<th title=\"").append(esc(Metrics.describe(c))).append("\">").append(esc(label)).append(Metrics.lowerIsBetter(c) ? " ↓" : " ↑").append("</th>");
        }
        h.append("</tr>\n");
        for (Labelled la : audits) fieldRowsOf(h, la, cols);
        if (published) {
            h.append("<tr><th colspan=\"").append(cols.size() + 1).append("\">").append(esc(PublishedNsd.LABEL))
                    .append(" — other papers' numbers on NSD, not this run's</th></tr>\n");
            for (PublishedNsd p : PublishedNsd.ALL) {
                h.append("<tr class=\"note\"><td>").append(esc(p.method())).append(" <i>(published)</i></td>");
                for (String c : cols) {
                    Double v = p.values().get(c);
                    h.append("<td class=\"num\"><i>").append(v == null ? "—" : fieldValue(c, v)).append("</i></td>");
                }
                h.append("</tr>\n");
            }
        }
        h.append("</table>\n");
    }

    /** One method's rows of the field table: its kinds, then its nulls. */
    private static void fieldRowsOf(StringBuilder h, Labelled la, List<String> cols) {
        AuditResult audit = la.result();
        List<String> rows = new ArrayList<>();
        for (var k : audit.kinds()) rows.add(k.name());
        for (var n : audit.nulls()) rows.add("nulls." + n.name());
        for (String row : rows) {
            Map<String, AuditResult.Summary> m = audit.summaries().get(row);
            h.append("<tr><td>").append(esc(la.label(row.startsWith("nulls.") ? "null: " + row.substring(6) : row))).append("</td>");
            for (String c : cols) {
                AuditResult.Summary s = m.get(c);
                h.append("<td class=\"num\">").append(s == null ? "" : fieldInterval(c, s.interval())).append("</td>");
            }
            h.append("</tr>\n");
        }
    }

    private boolean anyEntryHas(String metric) {
        for (Labelled la : audits) for (var m : la.result().summaries().values()) if (m.containsKey(metric)) return true;
        return false;
    }

    private static boolean percent(String metric) {
        NetMetric m = NetMetric.byKey(metric);
        return m != null && !m.lowerIsBetter();
    }

    private static String fieldValue(String metric, double v) {
        return percent(metric) ? String.format(Locale.ROOT, "%.1f%%", 100 * v) : fmt(v);
    }

    private static String fieldInterval(String metric, Stats.Interval i) {
        return fieldValue(metric, i.mean()) + " <span class=\"note\">[" + fieldValue(metric, i.low()) + ", " + fieldValue(metric, i.high()) + "]</span>";
    }

    private void bestOfK(StringBuilder h, Labelled la) {
        AuditResult audit = la.result();
        h.append("<h2>Optimistic bound: best of K by ground truth").append(la.method() == null ? "" : " (" + esc(la.method()) + ")").append("</h2>\n<p class=\"note\">The best sample per image, chosen by looking at the ground truth. ")
                .append("Not a result: no decoder can make this choice. Shown only to expose the gap to the headline mean.</p>\n")
                .append("<table><tr><th>kind</th><th>metric</th><th>mean over samples</th><th>best of K (optimistic)</th></tr>\n");
        for (var e : audit.bestOfK().entrySet()) {
            for (var m : e.getValue().entrySet()) {
                h.append("<tr><td>").append(esc(la.label(e.getKey()))).append("</td><td>").append(esc(m.getKey())).append("</td><td class=\"num\">")
                        .append(interval(audit.summary(e.getKey(), m.getKey()).interval())).append("</td><td class=\"num\">")
                        .append(interval(m.getValue().interval())).append("</td></tr>\n");
            }
        }
        h.append("</table>\n");
    }

    // ---------------------------------------------------------------- plots

    private void plots(StringBuilder h, Labelled la) {
        AuditResult audit = la.result();
        h.append("<h2>Per-image scores against the nulls").append(la.method() == null ? "" : " (" + esc(la.method()) + ")").append("</h2>\n");
        for (var kind : audit.kinds()) {
            for (String metric : PLOTTED) {
                double[] mine = kind.perImage().get(metric);
                if (mine == null) continue;
                Map<String, double[]> series = new LinkedHashMap<>();
                series.put(kind.name(), mine);
                for (var n : audit.nullsOf(kind.name())) {
                    double[] v = n.perImage().get(metric);
                    if (v != null) series.put("null: " + n.name(), v);
                }
                h.append(svgPlot(la.label(kind.name()) + " — " + metric, series)).append('\n');
            }
        }
    }

    /** A dot plot: x = test image (in order), y = score; the first series in black, nulls in colour; dashed means. */
    static String svgPlot(String heading, Map<String, double[]> series) {
        int w = 720, hgt = 240, left = 50, right = 170, top = 24, bottom = 30;
        double lo = 0, hi = 1;
        for (double[] v : series.values()) for (double x : v) {
            lo = Math.min(lo, x);
            hi = Math.max(hi, x);
        }
        int n = series.values().iterator().next().length;
        double pw = w - left - right, ph = hgt - top - bottom;
        double flo = lo, fhi = hi;
        java.util.function.DoubleUnaryOperator ys = v -> top + ph * (fhi - v) / (fhi - flo);
        java.util.function.IntToDoubleFunction xs = i -> left + pw * (n == 1 ? 0.5 : (i + 0.5) / n);
        StringBuilder s = new StringBuilder();
        s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(w).append("\" height=\"").append(hgt)
                .append("\" viewBox=\"0 0 ").append(w).append(' ').append(hgt).append("\" style=\"font:11px sans-serif\">");
        s.append("<text x=\"").append(left).append("\" y=\"14\" font-weight=\"bold\">").append(esc(heading)).append("</text>");
        s.append(rect(left, top, pw, ph, "none", "#999"));
        for (double t : new double[]{lo, 0, 0.5, 1, hi}) {
            if (t < lo || t > hi) continue;
            double y = ys.applyAsDouble(t);
            s.append(line(left - 4, y, left + pw, y, "#ddd", false)).append("<text x=\"").append(left - 6).append("\" y=\"").append(f1(y + 4))
                    .append("\" text-anchor=\"end\">").append(fmt(t)).append("</text>");
        }
        s.append("<text x=\"").append(f1(left + pw / 2)).append("\" y=\"").append(hgt - 8).append("\" text-anchor=\"middle\">test image</text>");
        int c = 0, row = 0;
        for (var e : series.entrySet()) {
            String colour = c == 0 ? "#000000" : PALETTE[(c - 1) % PALETTE.length];
            double[] v = e.getValue();
            double mean = Stats.mean(v);
            s.append(line(left, ys.applyAsDouble(mean), left + pw, ys.applyAsDouble(mean), colour, true));
            for (int i = 0; i < v.length; i++) {
                s.append("<circle cx=\"").append(f1(xs.applyAsDouble(i))).append("\" cy=\"").append(f1(ys.applyAsDouble(v[i])))
                        .append("\" r=\"").append(c == 0 ? 4 : 3).append("\" fill=\"").append(colour).append("\" fill-opacity=\"0.8\"/>");
            }
            double ly = top + 6 + 16 * row++;
            s.append("<circle cx=\"").append(f1(left + pw + 14)).append("\" cy=\"").append(f1(ly)).append("\" r=\"4\" fill=\"").append(colour).append("\"/>")
                    .append("<text x=\"").append(f1(left + pw + 22)).append("\" y=\"").append(f1(ly + 4)).append("\">").append(esc(e.getKey()))
                    .append(" (").append(fmt(mean)).append(")</text>");
            c++;
        }
        return s.append("</svg>").toString();
    }

    private static String rect(double x, double y, double w, double h, String fill, String stroke) {
        return "<rect x=\"" + f1(x) + "\" y=\"" + f1(y) + "\" width=\"" + f1(w) + "\" height=\"" + f1(h) + "\" fill=\"" + fill + "\" stroke=\"" + stroke + "\"/>";
    }

    private static String line(double x1, double y1, double x2, double y2, String colour, boolean dashed) {
        return "<line x1=\"" + f1(x1) + "\" y1=\"" + f1(y1) + "\" x2=\"" + f1(x2) + "\" y2=\"" + f1(y2) + "\" stroke=\"" + colour + "\""
                + (dashed ? " stroke-dasharray=\"5,3\"" : "") + "/>";
    }

    // ---------------------------------------------------------------- settings

    private void settingsTable(StringBuilder h) {
        Map<String, Object> all = new LinkedHashMap<>(settings);
        String v = HtmlReport.class.getPackage().getImplementationVersion();
        all.putIfAbsent("brain2img", v == null ? "dev" : v);
        all.putIfAbsent("java", Runtime.version() + " (" + System.getProperty("java.vm.vendor") + ")");
        all.putIfAbsent("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        h.append("<h2>Settings and versions</h2>\n<table>");
        for (var e : all.entrySet()) {
            String val = e.getValue() instanceof String str ? str : Json.MAPPER.valueToTree(e.getValue()).toString();
            h.append("<tr><th>").append(esc(e.getKey())).append("</th><td><code>").append(esc(val)).append("</code></td></tr>\n");
        }
        h.append("</table>\n");
    }

    // ---------------------------------------------------------------- formatting

    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                default -> b.append(ch);
            }
        }
        return b.toString();
    }

    private static String interval(Stats.Interval i) {
        return fmt(i.mean()) + " <span class=\"note\">[" + fmt(i.low()) + ", " + fmt(i.high()) + "]</span>";
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }

    private static String fmtP(double p) {
        return p < 0.001 ? String.format(Locale.ROOT, "%.1e", p) : String.format(Locale.ROOT, "%.3f", p);
    }

    private static String f1(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }
}
