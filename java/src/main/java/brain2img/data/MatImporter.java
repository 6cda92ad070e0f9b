package brain2img.data;

import brain2img.io.FormatException;
import brain2img.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Imports a MAT file (v5, compressed or not, or v7.3) holding train/test response matrices (trials × voxels,
 * either orientation) and stimulus matrices (one flattened image per trial) into a brain2img data set.
 * Train trial i shows image i, test trial j image nTrain + j; each trial is its own image (no repetitions).
 *
 * <p>Pixel order: a flattened image of H·W·C values is read as MATLAB's {@code reshape(v, H, W, C)}
 * (column-major: index h + H·(w + W·c)) by default, or, with {@code columnMajor = false}, as C order over
 * (H, W, C). Sizes: H×W when given, else square (grey s·s or RGB 3·s·s). Values: uint8, or doubles in [0,255]
 * are divided by 255; doubles in [0,1] are kept.
 */
public final class MatImporter {
    public static final String X_TRAIN = "fmriTrn", X_TEST = "fmriTest", STIM_TRAIN = "stimTrn", STIM_TEST = "stimTest";

    /** @param imageHW {H, W}, or null for square images */
    public record Options(Path file, String xTrain, String xTest, String stimTrain, String stimTest, int[] imageHW, boolean columnMajor) {}

    private MatImporter() {}

    public static Dataset run(Options o, Path out) throws IOException {
        MatFile mat = MatFile.read(o.file());
        MatFile.Var xTr = pick(mat, o.xTrain(), X_TRAIN, "(?i).*(fmri|resp|brain|voxel|^x).*(trn|train).*");
        MatFile.Var xTe = pick(mat, o.xTest(), X_TEST, "(?i).*(fmri|resp|brain|voxel|^x).*(tst|test|val).*");
        MatFile.Var sTr = pick(mat, o.stimTrain(), STIM_TRAIN, "(?i).*(stim|img|image|^y).*(trn|train).*");
        MatFile.Var sTe = pick(mat, o.stimTest(), STIM_TEST, "(?i).*(stim|img|image|^y).*(tst|test|val).*");
        Pair train = pair(xTr, sTr, o.file()), test = pair(xTe, sTe, o.file());
        if (train.voxels() != test.voxels()) {
            throw new FormatException(o.file() + ": " + xTr.describe() + " has " + train.voxels() + " voxels but " + xTe.describe() + " has " + test.voxels());
        }
        if (train.pixels() != test.pixels()) {
            throw new FormatException(o.file() + ": " + sTr.describe() + " has " + train.pixels() + " pixels per image but " + sTe.describe() + " has " + test.pixels());
        }
        int[] chw = imageShape(train.pixels(), o.imageHW(), sTr, o.file());
        double scale = pixelScale(sTr, sTe, o.file());

        String name = o.file().getFileName().toString().replaceFirst("\\.mat$", "");
        try (DatasetWriter w = DatasetWriter.create(out, name)) {
            w.subject("unknown");
            w.provenance("importer", "mat");
            Map<String, Object> opts = new LinkedHashMap<>();
            opts.put("file", o.file().toAbsolutePath().toString());
            opts.put("x_train", xTr.name());
            opts.put("x_test", xTe.name());
            opts.put("stim_train", sTr.name());
            opts.put("stim_test", sTe.name());
            opts.put("image_size", chw);
            opts.put("pixel_order", o.columnMajor() ? "column-major, MATLAB reshape(v, H, W, C)" : "row-major, C order over (H, W, C)");
            opts.put("pixel_scale", scale == 1 ? "values kept (already in [0,1])" : "divided by 255");
            w.provenance("options", opts);
            w.provenance("units", "as stored in the file (" + xTr.matlabClass() + "), converted to float32");
            int n = train.trials() + test.trials(), v = train.voxels();
            w.responses(n, v);
            w.appendRows(rows(train, o.file()));
            w.appendRows(rows(test, o.file()));
            for (int i = 0; i < n; i++) {
                boolean isTest = i >= train.trials();
                w.trial(new Trial(i, i, 1, 0, isTest ? Split.TEST : Split.TRAIN));
                Pair p = isTest ? test : train;
                w.stimulus(i, image(p, isTest ? i - train.trials() : i, chw, o.columnMajor(), scale));
            }
            return w.commit();
        }
    }

    /** The named variable; when the default name is absent, the one variable whose name fits {@code pattern}. */
    private static MatFile.Var pick(MatFile mat, String name, String defaultName, String pattern) {
        if (mat.has(name) || !name.equals(defaultName)) return mat.get(name);
        Pattern p = Pattern.compile(pattern);
        List<String> hits = new ArrayList<>();
        for (MatFile.Var v : mat.variables().values()) if (v.data() != null && p.matcher(v.name()).matches()) hits.add(v.name());
        if (hits.size() == 1) return mat.get(hits.get(0));
        throw new FormatException(mat.file() + ": no variable '" + name + "'" + (hits.isEmpty() ? "" : " and several candidates " + hits)
                + " (has: " + String.join(", ", mat.variables().keySet()) + "); name it with the matching option");
    }

    /** Responses and stimuli of one split, oriented so that trials run along {@code trialsAreRows}. */
    private record Pair(MatFile.Var x, boolean xRows, MatFile.Var stim, boolean stimRows, int trials, int voxels, int pixels) {}

    private static Pair pair(MatFile.Var x, MatFile.Var s, Path file) {
        if (x.dims().length != 2 || s.dims().length != 2) {
            throw new FormatException(file + ": " + x.describe() + " and " + s.describe() + " must be 2-D matrices");
        }
        int xr = x.rows(), xc = x.cols(), sr = s.rows(), sc = s.cols();
        // trials: the dimension the two matrices share, rows preferred
        boolean xRows, sRows;
        if (xr == sr) { xRows = true; sRows = true; }
        else if (xr == sc) { xRows = true; sRows = false; }
        else if (xc == sr) { xRows = false; sRows = true; }
        else if (xc == sc) { xRows = false; sRows = false; }
        else throw new FormatException(file + ": " + x.describe() + " and " + s.describe() + " share no dimension (the trial count)");
        int trials = xRows ? xr : xc;
        return new Pair(x, xRows, s, sRows, trials, xRows ? xc : xr, sRows ? sc : sr);
    }

    private static float[] rows(Pair p, Path file) {
        int n = p.trials(), v = p.voxels();
        float[] out = new float[n * v];
        for (int t = 0; t < n; t++) {
            for (int j = 0; j < v; j++) {
                double d = p.xRows() ? p.x().at(t, j) : p.x().at(j, t);
                if (!Double.isFinite(d)) throw new FormatException(file + ": " + p.x().name() + " has " + d + " at trial " + t + ", voxel " + j);
                out[t * v + j] = (float) d;
            }
        }
        return out;
    }

    private static int[] imageShape(int pixels, int[] hw, MatFile.Var s, Path file) {
        if (hw != null) {
            int c = pixels / (hw[0] * hw[1]);
            if ((c != 1 && c != 3) || c * hw[0] * hw[1] != pixels) {
                throw new FormatException(file + ": " + s.describe() + " has " + pixels + " values per image, not 1 or 3 × " + hw[0] + "×" + hw[1]);
            }
            return new int[]{c, hw[0], hw[1]};
        }
        int side = (int) Math.round(Math.sqrt(pixels));
        if (side * side == pixels) return new int[]{1, side, side};
        side = (int) Math.round(Math.sqrt(pixels / 3.0));
        if (3 * side * side == pixels) return new int[]{3, side, side};
        throw new FormatException(file + ": " + pixels + " values per image in " + s.describe() + " are not a square grey or RGB image; pass --image-size HxW");
    }

    private static double pixelScale(MatFile.Var a, MatFile.Var b, Path file) {
        double max = Math.max(Arrays.stream(a.data()).max().orElse(0), Arrays.stream(b.data()).max().orElse(0));
        double min = Math.min(Arrays.stream(a.data()).min().orElse(0), Arrays.stream(b.data()).min().orElse(0));
        if (min < 0 || max > 255) throw new FormatException(file + ": stimulus values span [" + min + ", " + max + "], expected [0,1] or [0,255]");
        return a.matlabClass().startsWith("uint") || max > 1 ? 255 : 1;
    }

    private static Tensor image(Pair p, int trial, int[] chw, boolean columnMajor, double scale) {
        int c = chw[0], h = chw[1], w = chw[2];
        float[] out = new float[c * h * w];
        for (int k = 0; k < c; k++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int src = columnMajor ? y + h * (x + w * k) : (y * w + x) * c + k;
                    double v = p.stimRows() ? p.stim().at(trial, src) : p.stim().at(src, trial);
                    out[(k * h + y) * w + x] = (float) (v / scale);
                }
            }
        }
        return Tensor.of(out, c, h, w);
    }
}
