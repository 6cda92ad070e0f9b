package brain2img.report;

import brain2img.eval.Audit;
import brain2img.eval.AuditResult;
import brain2img.eval.NetCorrelations;
import brain2img.eval.Picture;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FieldTableReportTest {
    /** r[s][i][j] for n images with the own pair at r = own and every other pair at r = 0.1: two-way 1 when own > 0.1. */
    static NetCorrelations correlations(int n, double own) {
        double[][][] r = new double[1][n][n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) r[0][i][j] = i == j ? own : 0.1;
        return new NetCorrelations(r, null);
    }

    @Test
    void theRunsRowsThenThePublishedRowsLabelledAsOtherPapers() {
        int n = 4;
        Picture[] truth = new Picture[n];
        Picture[][] samples = new Picture[n][1];
        for (int i = 0; i < n; i++) {
            double[] d = new double[64];
            for (int j = 0; j < d.length; j++) d[j] = ((i + 1) * j % 7) / 7.0;
            truth[i] = new Picture(1, 8, 8, d);
            samples[i][0] = truth[i];
        }
        Audit audit = new Audit(truth, Map.of(), new Picture[0], new Audit.Options(50, 50, 1));
        Audit.Entry kind = new Audit.Entry("pixels", samples, Map.of(), () -> Map.of("clip", correlations(n, 0.9), "swav", correlations(n, 0.75)));
        Audit.Entry nul = new Audit.Entry("shuffled", samples, Map.of(), () -> Map.of("clip", correlations(n, 0.0), "swav", correlations(n, 0.0)));
        AuditResult r = audit.run(List.of(kind), List.of(nul), List.of());
        String html = new HtmlReport("t").audit(r).render();
        int table = html.indexOf("The field's metric table");
        assertTrue(table >= 0);
        String section = html.substring(table, html.indexOf("</table>", table));
        // columns present only for what was computed: no AlexNet, Inception or EffNet column without those networks
        assertTrue(section.contains(">CLIP ↑<") && section.contains(">SwAV ↓<") && section.contains(">PixCorr ↑<"));
        assertFalse(section.contains(">AlexNet(2) ↑<") || section.contains(">Incep ↑<") || section.contains(">EffNet-B ↓<"));
        // this run: two-way 100.0% (own 0.9 beats 0.1 everywhere), SwAV distance 1 − 0.75
        assertTrue(section.contains("<td>pixels</td><td class=\"num\">"), section);
        assertTrue(section.contains("100.0%") && section.contains("0.250"), section);
        // the published block comes after the run's rows, labelled, in italics, with only metrics.md's values
        int published = section.indexOf("published, NSD, 4-subject mean");
        assertTrue(published > section.indexOf("null: shuffled"), "published rows after this run's");
        Matcher me2 = Pattern.compile("MindEye2 \\(40 h\\) <i>\\(published\\)</i></td>(.*?)</tr>").matcher(section);
        assertTrue(me2.find());
        // columns PixCorr, SSIM, CLIP, SwAV: MindEye2 records .322, .431, 93.0% and no SwAV
        assertEquals("<td class=\"num\"><i>0.322</i></td><td class=\"num\"><i>0.431</i></td><td class=\"num\"><i>93.0%</i></td><td class=\"num\"><i>—</i></td>",
                me2.group(1));
        assertTrue(section.contains("Takagi &amp; Nishimoto (re-run in MindEye2's table) <i>(published)</i></td><td class=\"num\"><i>0.246</i></td>"));
    }
}
