package brain2img.report;

import brain2img.eval.Audit;
import brain2img.eval.AuditResult;
import brain2img.eval.Picture;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HtmlReportTest {
    static final int N = 6, SIZE = 16;
    static final int[] MAGENTA = {255, 0, 255}, CYAN = {0, 204, 255}, ORANGE = {255, 128, 0};

    /**
     * Ground truth 0 is one magenta block, ground truth 1 cyan above orange; every other picture in the
     * report is grey, so those colours on screen can only come from the two ground-truth images.
     */
    static Picture[] truth() {
        Random rnd = new Random(1);
        Picture[] t = new Picture[N];
        for (int i = 0; i < N; i++) {
            double[] d = new double[3 * SIZE * SIZE];
            for (int y = 0; y < SIZE; y++) for (int x = 0; x < SIZE; x++) {
                int[] c = i == 0 ? MAGENTA : i == 1 ? (y < SIZE / 2 ? CYAN : ORANGE) : null;
                double g = rnd.nextDouble();
                for (int ch = 0; ch < 3; ch++) d[(ch * SIZE + y) * SIZE + x] = c == null ? g : c[ch] / 255.0;
            }
            t[i] = new Picture(3, SIZE, SIZE, d);
        }
        return t;
    }

    static Picture[] greys(long seed) {
        Random rnd = new Random(seed);
        Picture[] p = new Picture[N];
        for (int i = 0; i < N; i++) {
            double[] d = new double[SIZE * SIZE];
            for (int j = 0; j < d.length; j++) d[j] = rnd.nextDouble();
            p[i] = new Picture(1, SIZE, SIZE, d);
        }
        return p;
    }

    static Path writeReport(Path dir) throws Exception {
        Picture[] truth = truth(), recon = greys(2), shuffled = greys(3);
        Audit audit = new Audit(truth, Map.of(), new Picture[0], new Audit.Options(200, 1000, 42));
        AuditResult r = audit.run(List.of(Audit.Entry.of("pixels", recon)), List.of(Audit.Entry.of("shuffled", shuffled)), List.of());
        int[] ids = {10, 11, 12, 13, 14, 15};
        Path file = dir.resolve("report.html");
        new HtmlReport("test report").groundTruth(truth, ids).column("pixels", wrap(recon)).column("null: shuffled", wrap(shuffled))
                .audit(r).settings(Map.of("targets", "pixels", "seed", 42)).write(file);
        return file;
    }

    /**
     * Two methods side by side: every row and table labelled by method, and each method's p-values only against
     * its own nulls (method a's table has no column for b's null "permuted_fit", b's none for a's "shuffled").
     */
    @Test
    void twoMethodsSideBySide() {
        Picture[] truth = truth();
        Audit audit = new Audit(truth, Map.of(), new Picture[0], new Audit.Options(200, 1000, 42));
        AuditResult a = audit.run(List.of(Audit.Entry.of("X_dir", greys(2))), List.of(Audit.Entry.of("shuffled", greys(3))), List.of());
        AuditResult b = audit.run(List.of(Audit.Entry.of("pixels", greys(4))), List.of(Audit.Entry.of("permuted_fit", greys(5))), List.of());
        String html = new HtmlReport("two").groundTruth(truth, new int[]{10, 11, 12, 13, 14, 15}).audit("shen", a).audit("takagi", b).render();
        for (String s : List.of("<td>shen: X_dir</td>", "<td>shen: null: shuffled</td>", "<td>takagi: pixels</td>", "<td>takagi: null: permuted_fit</td>",
                "<h2>Per-image scores against the nulls (takagi)</h2>", "<h2>Optimistic bound: best of K by ground truth (shen)</h2>")) {
            assertTrue(html.contains(s), s);
        }
        String shenTable = html.substring(html.indexOf("<h2>Metrics: shen: X_dir"), html.indexOf("<h2>Metrics: takagi: pixels"));
        String takagiTable = html.substring(html.indexOf("<h2>Metrics: takagi: pixels"), html.indexOf("<h2>Per-image scores"));
        assertTrue(shenTable.contains("<th>null: shuffled</th>") && !shenTable.contains("permuted_fit"), shenTable);
        assertTrue(takagiTable.contains("<th>null: permuted_fit</th>") && !takagiTable.contains("shuffled"), takagiTable);
    }

    /**
     * Two groups in one audit (a method variant beside another, each with the nulls it rendered): each kind's table
     * and plots show, and test against, only its own group's nulls.
     */
    @Test
    void eachKindAgainstItsOwnGroupsNulls() {
        Picture[] truth = truth();
        Audit audit = new Audit(truth, Map.of(), new Picture[0], new Audit.Options(200, 1000, 42));
        AuditResult r = audit.run(List.of(new Audit.Group(List.of(Audit.Entry.of("X_dir", greys(2))), List.of(Audit.Entry.of("shuffled", greys(3)))),
                new Audit.Group(List.of(Audit.Entry.of("X_dir_dgn", greys(4))), List.of(Audit.Entry.of("shuffled_dgn", greys(5))))), List.of());
        String html = new HtmlReport("groups").groundTruth(truth, new int[]{10, 11, 12, 13, 14, 15}).audit(r).render();
        String dir = html.substring(html.indexOf("<h2>Metrics: X_dir ("), html.indexOf("<h2>Metrics: X_dir_dgn ("));
        String dgn = html.substring(html.indexOf("<h2>Metrics: X_dir_dgn ("), html.indexOf("<h2>Per-image scores"));
        assertTrue(dir.contains("<th>null: shuffled</th>") && !dir.contains("shuffled_dgn"), dir);
        assertTrue(dgn.contains("<th>null: shuffled_dgn</th>") && !dgn.contains("<th>null: shuffled</th>"), dgn);
        assertTrue(html.contains("<td>null: shuffled</td>") && html.contains("<td>null: shuffled_dgn</td>"), "the field table lists every null");
        assertEquals(List.of("shuffled"), r.summary("X_dir", "pixcorr").pValues().keySet().stream().toList());
        assertEquals(List.of("shuffled_dgn"), r.summary("X_dir_dgn", "pixcorr").pValues().keySet().stream().toList());
    }

    static Picture[][] wrap(Picture[] p) {
        Picture[][] w = new Picture[p.length][];
        for (int i = 0; i < p.length; i++) w[i] = new Picture[]{p[i]};
        return w;
    }

    @Test
    void isSelfContained(@TempDir Path tmp) throws Exception {
        String html = Files.readString(writeReport(tmp));
        assertFalse(html.contains("<script"), "no scripts");
        assertFalse(html.contains("<link"), "no linked resources");
        assertFalse(Pattern.compile("(src|href)=\"(?!data:)").matcher(html).find(), "every src/href is a data: URI");
        assertFalse(html.contains("url("), "no CSS urls");
        Matcher img = Pattern.compile("<img [^>]*src=\"data:image/png;base64,").matcher(html);
        int count = 0;
        while (img.find()) count++;
        assertEquals(3 * N, count, "ground truth + 2 columns per image");
        assertTrue(html.contains("<svg"), "inline plots");
        assertTrue(html.contains("p = "), "p-values in the metric table");
        assertTrue(html.contains("<code>42</code>"), "settings shown");
    }

    @Test
    void rendersInHeadlessChromiumWithTheGroundTruthVisible(@TempDir Path tmp) throws Exception {
        String chromium = findChromium();
        Assumptions.assumeTrue(chromium != null,
                "chromium not found (install Debian's chromium, or set BRAIN2IMG_CHROMIUM): skipping the report rendering check");
        Path report = writeReport(tmp);
        Path shot = tmp.resolve("shot.png");
        List<String> cmd = List.of(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars", "--force-device-scale-factor=1",
                "--user-data-dir=" + tmp.resolve("profile"), "--screenshot=" + shot, "--window-size=1200,2400",
                report.toUri().toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("chromium.log").toFile()).start();
        boolean done = p.waitFor(120, TimeUnit.SECONDS);
        if (!done) p.destroyForcibly();
        assertTrue(done, "chromium did not finish in 120 s");
        assertTrue(Files.isRegularFile(shot), "no screenshot; chromium log:\n" + Files.readString(tmp.resolve("chromium.log")));
        BufferedImage img = ImageIO.read(shot.toFile());

        // each ground-truth pixel is a 6x6 block (16 px enlarged to 96): the magenta picture is one 96x96 block
        int[] box = boundingBox(img, MAGENTA);
        assertTrue(box != null, "magenta ground truth 0 not on screen");
        assertEquals(96, box[2] - box[0] + 1, "magenta block width");
        assertEquals(96, box[3] - box[1] + 1, "magenta block height");
        assertEquals(96 * 96, count(img, MAGENTA), "magenta pixels");
        // ground truth 1: a 96x48 cyan band directly above a 96x48 orange band, below ground truth 0
        int[] cyan = boundingBox(img, CYAN), orange = boundingBox(img, ORANGE);
        assertTrue(cyan != null && orange != null, "ground truth 1 not on screen");
        assertEquals(96 * 48, count(img, CYAN));
        assertEquals(96 * 48, count(img, ORANGE));
        assertEquals(cyan[0], orange[0], "the two halves are aligned");
        assertEquals(cyan[3] + 1, orange[1], "orange starts where cyan ends");
        assertEquals(box[0], cyan[0], "both ground truths in the same column");
        assertTrue(cyan[1] > box[3], "ground truth 1 is in the row below ground truth 0");
        // the per-image plot draws the shuffled null's points in the first palette colour (#d62728)
        assertTrue(count(img, new int[]{0xd6, 0x27, 0x28}) > 20, "plot points of the null not rendered");
    }

    static String findChromium() {
        List<String> candidates = new ArrayList<>();
        String env = System.getenv("BRAIN2IMG_CHROMIUM");
        if (env != null && !env.isBlank()) candidates.add(env);
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            for (String name : new String[]{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}) {
                candidates.add(Path.of(dir, name).toString());
            }
        }
        for (String c : candidates) if (Files.isExecutable(Path.of(c))) return c;
        return null;
    }

    static boolean near(int rgb, int[] c) {
        return Math.abs(((rgb >> 16) & 0xff) - c[0]) <= 3 && Math.abs(((rgb >> 8) & 0xff) - c[1]) <= 3 && Math.abs((rgb & 0xff) - c[2]) <= 3;
    }

    static int count(BufferedImage img, int[] c) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) for (int x = 0; x < img.getWidth(); x++) if (near(img.getRGB(x, y), c)) n++;
        return n;
    }

    /** {x0, y0, x1, y1} of all pixels of colour c, or null. */
    static int[] boundingBox(BufferedImage img, int[] c) {
        int[] b = null;
        for (int y = 0; y < img.getHeight(); y++) for (int x = 0; x < img.getWidth(); x++) {
            if (!near(img.getRGB(x, y), c)) continue;
            if (b == null) b = new int[]{x, y, x, y};
            b[0] = Math.min(b[0], x);
            b[1] = Math.min(b[1], y);
            b[2] = Math.max(b[2], x);
            b[3] = Math.max(b[3], y);
        }
        return b;
    }
}
