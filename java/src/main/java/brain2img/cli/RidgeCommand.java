package brain2img.cli;

import brain2img.backend.Backend;
import brain2img.io.Npy;
import brain2img.ridge.DenseLinAlg;
import brain2img.ridge.RidgeBench;
import brain2img.ridge.RidgeCV;
import brain2img.ridge.RidgeModel;
import brain2img.ridge.RidgeOptions;
import brain2img.ridge.RidgeScores;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/** {@code brain2img ridge fit|predict|score|bench}: cross-validated multi-target ridge regression. */
@Command(name = "ridge", mixinStandardHelpOptions = true,
        description = "Cross-validated multi-target ridge regression (voxels → features): fit, predict, score, bench.",
        subcommands = {RidgeCommand.Fit.class, RidgeCommand.Predict.class, RidgeCommand.Score.class, RidgeCommand.Bench.class},
        footer = {"", "Example:",
                "  brain2img ridge fit --x X.npy --y Y.npy --alphas 1e-2,1e-1,1,10 --folds 5 \\",
                "      --out model.safetensors"})
public final class RidgeCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "fit", mixinStandardHelpOptions = true,
            description = "Fit ridge X → Y with the alpha chosen per target (or shared) by K-fold cross-validation.",
            footer = {"", "Example:",
                    "  brain2img ridge fit --x X.npy --y Y.npy --alphas 1e-2,1e-1,1,10 --folds 5 \\",
                    "      --groups g.npy --standardize --out model.safetensors"})
    static final class Fit implements Callable<Integer> {
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;
        @Mixin
        FitOptions fit;
        @Mixin
        DeviceOption device;
        @Option(names = "--out", required = true, paramLabel = "model.safetensors", description = "Where to write the model.")
        Path out;

        @Override
        public Integer call() throws IOException {
            FitOptions.Inputs in = fit.load();
            RidgeOptions opt = in.options();
            Tensor xt = in.x(), yt = in.y();
            try (Backend be = device.open()) {
                DenseLinAlg la = DenseLinAlg.forBackend(be);
                java.io.PrintWriter err = spec.commandLine().getErr();
                err.println("ridge: " + xt.shapeString() + " → " + yt.shapeString() + ", " + opt + ", linalg " + la.describe());
                long t0 = System.nanoTime();
                RidgeModel m = RidgeCV.fit(be, xt, yt, opt, line -> {
                    err.println("ridge: " + line);
                    err.flush();
                });
                fit.recordFiles(m);
                m.save(out);
                printOut(spec, summary(m, (System.nanoTime() - t0) / 1e9));
            }
            return 0;
        }

        private static String summary(RidgeModel m, double seconds) {
            double[] a = m.alpha().toDoubleArray();
            Map<Double, Integer> counts = new TreeMap<>();
            for (double v : a) counts.merge(v, 1, Integer::sum);
            double[] grid = Arrays.stream(m.metadata().get("alphas").split(",")).mapToDouble(Double::parseDouble).toArray();
            double best = 0;
            int t = m.targets();
            for (int j = 0; j < t; j++) {
                int row = 0;
                for (int i = 0; i < grid.length; i++) if (grid[i] == a[j]) row = i;
                best += m.cvScore().getDouble((long) row * t + j) / t;
            }
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                    "fitted %d features → %d targets in %.1f s; mean CV R² at the chosen alphas %.4f; alphas chosen:",
                    m.features(), t, seconds, best));
            counts.forEach((k, v) -> sb.append(String.format(Locale.ROOT, " %g×%d", k, v)));
            return sb.toString();
        }
    }

    @Command(name = "predict", mixinStandardHelpOptions = true,
            description = "Predict Y = (X − x_mean)/x_scale · coef + intercept with a fitted ridge model.",
            footer = {"", "Example:", "  brain2img ridge predict --model model.safetensors --x Xtest.npy --out Yhat.npy"})
    static final class Predict implements Callable<Integer> {
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;
        @Mixin
        ModelInputs in;
        @Option(names = "--out", required = true, paramLabel = "Yhat.npy", description = "Where to write the predictions (samples, targets).")
        Path out;

        @Override
        public Integer call() throws IOException {
            ModelInputs.Loaded l = in.load();
            Tensor pred = l.model().predict(l.x());
            Npy.write(out, pred);
            printOut(spec, "wrote " + out + " " + pred.shapeString());
            return 0;
        }
    }

    @Command(name = "score", mixinStandardHelpOptions = true,
            description = "Per-target R² and Pearson r of a ridge model's predictions: summary, and optionally all of them.",
            footer = {"", "--out writes f64 (2, targets): row 0 R², row 1 Pearson r.", "",
                    "Example:",
                    "  brain2img ridge score --model model.safetensors --x Xtest.npy --y Ytest.npy \\",
                    "      --out scores.npy"})
    static final class Score implements Callable<Integer> {
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;
        @Mixin
        ModelInputs in;
        @Option(names = "--y", required = true, paramLabel = "Y.npy", description = "True targets (samples, targets).")
        Path y;
        @Option(names = "--out", paramLabel = "scores.npy", description = "Write the per-target scores (2, targets).")
        Path out;

        @Override
        public Integer call() throws IOException {
            ModelInputs.Loaded l = in.load();
            RidgeModel m = l.model();
            Tensor xt = l.x();
            Tensor yt = readTargets(y);
            requireFinite(yt, y);
            if (yt.dim(0) != xt.dim(0) || yt.dim(1) != m.targets()) {
                throw new Main.UsageException(y + " is " + yt.shapeString() + " but needs (" + xt.dim(0) + ", " + m.targets()
                        + ") for " + in.x + " and " + in.model);
            }
            RidgeScores s = RidgeScores.of(yt, m.predict(xt));
            printOut(spec, s.summary());
            if (out != null) {
                Npy.write(out, s.toTensor());
                printOut(spec, "wrote " + out + " f64[2, " + m.targets() + "] (R², Pearson r)");
            }
            return 0;
        }
    }

    @Command(name = "bench", mixinStandardHelpOptions = true,
            description = "Time 'ridge fit' on a random problem (seconds, GFLOP/s) and a naive per-alpha Cholesky path for reference.",
            footer = {"", "Example (the README figure; takes minutes on 2 cores):", "  brain2img ridge bench --n 4000 --p 2000 --t 6400 --alphas 7 --folds 5"})
    static class Bench implements Callable<Integer> {
        @Option(names = "--n", defaultValue = "4000", description = "Samples (default: ${DEFAULT-VALUE}).")
        int n;
        @Option(names = "--p", defaultValue = "2000", description = "Features (default: ${DEFAULT-VALUE}).")
        int p;
        @Option(names = "--t", defaultValue = "6400", description = "Targets (default: ${DEFAULT-VALUE}).")
        int t;
        @Option(names = "--alphas", defaultValue = "7", description = "Alphas in the grid, log-spaced 1e-2..1e4 (default: ${DEFAULT-VALUE}).")
        int alphas;
        @Option(names = "--folds", defaultValue = "5", description = "Folds (default: ${DEFAULT-VALUE}).")
        int folds;
        @Option(names = "--dtype", defaultValue = "f32", paramLabel = "f32|f64", description = "Precision (default: ${DEFAULT-VALUE}).")
        String dtype;
        @Option(names = "--reference", defaultValue = "all", paramLabel = "all|one-fold|none",
                description = "Time the naive reference on all folds, on one fold (extrapolated ×K), or not (default: ${DEFAULT-VALUE}).")
        String reference;
        @Option(names = "--nsd", description = "The NSD-size problem: n=24980, p=15724, t=59136, 7 alphas, 5 folds, --reference none"
                + " (size options given explicitly still apply).")
        boolean nsd;
        @Option(names = "--verbose", description = "Also print the fit's time by kind: GEMM, eigendecomposition, the rest.")
        boolean verbose;
        @Mixin
        DeviceOption device;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            if (nsd) nsdDefaults(spec.commandLine().getParseResult());
            if (n < 2 || p < 1 || t < 1 || alphas < 1 || folds < 2 || folds > n) {
                throw new Main.UsageException("bench: need n ≥ folds ≥ 2, p, t, alphas ≥ 1");
            }
            RidgeBench.Reference ref = switch (reference) {
                case "all" -> RidgeBench.Reference.ALL_FOLDS;
                case "one-fold" -> RidgeBench.Reference.ONE_FOLD;
                case "none" -> RidgeBench.Reference.NONE;
                default -> throw new Main.UsageException("--reference: expected all, one-fold or none, got '" + reference + "'");
            };
            boolean f64 = isF64(dtype);
            try (Backend be = device.open()) {
                RidgeBench.run(be, n, p, t, alphas, folds, f64, ref, verbose, System.out);
            }
            return 0;
        }

        /** NSD sizes (subject 1, nsdgeneral voxels → CLIP text features) for every option not given on the command line. */
        private void nsdDefaults(ParseResult given) {
            if (!given.hasMatchedOption("--n")) n = 24980;
            if (!given.hasMatchedOption("--p")) p = 15724;
            if (!given.hasMatchedOption("--t")) t = 59136;
            if (!given.hasMatchedOption("--alphas")) alphas = 7;
            if (!given.hasMatchedOption("--folds")) folds = 5;
            if (!given.hasMatchedOption("--reference")) reference = "none"; // the naive path would take hours at this size
        }
    }

    /** One result line on the command line's stdout, flushed so it shows before a slow next step. */
    private static void printOut(picocli.CommandLine.Model.CommandSpec spec, String line) {
        java.io.PrintWriter o = spec.commandLine().getOut();
        o.println(line);
        o.flush();
    }

    /**
     * The inputs and options of a cross-validated fit, shared by {@code ridge fit} and {@code spark ridge}:
     * X, Y, the alpha grid, folds and groups, alpha mode, standardisation, intercept, dtype and solver.
     */
    public static final class FitOptions {
        @Option(names = "--x", required = true, paramLabel = "X.npy", description = "Inputs (samples, features), f32 or f64.")
        Path x;
        @Option(names = "--y", required = true, paramLabel = "Y.npy", description = "Targets (samples, targets) or (samples).")
        Path y;
        @Option(names = "--alphas", required = true, split = ",", paramLabel = "ALPHA", description = "Alpha grid, comma-separated, each > 0.")
        double[] alphas;
        @Option(names = "--folds", defaultValue = "5", description = "Cross-validation folds (default: ${DEFAULT-VALUE}).")
        int folds;
        @Option(names = "--groups", paramLabel = "g.npy", description = "One group id per sample (e.g. image id); folds never split a group.")
        Path groups;
        @Option(names = "--alpha-mode", defaultValue = "per-target", paramLabel = "per-target|shared",
                description = "One alpha per target, or one for all (default: ${DEFAULT-VALUE}).")
        String alphaMode;
        @Option(names = "--standardize", description = "Scale X columns by their training standard deviation.")
        boolean standardize;
        @Option(names = "--no-intercept", description = "Do not centre X and Y (no intercept).")
        boolean noIntercept;
        @Option(names = "--dtype", defaultValue = "f32", paramLabel = "f32|f64", description = "Compute precision (default: ${DEFAULT-VALUE}).")
        String dtype;
        @Option(names = "--solver", defaultValue = "auto", paramLabel = "auto|primal|kernel",
                description = "Eigendecomposition of XᵀX (primal), of XXᵀ (kernel), or the smaller (default: ${DEFAULT-VALUE}).")
        String solver;
        /** X (n, p), Y (n, t) and the options with the groups, checked: float, finite, matching rows, enough folds. */
        public record Inputs(Tensor x, Tensor y, RidgeOptions options) {}

        public Inputs load() {
            RidgeOptions opt = options();
            Tensor xt = readMatrix(x, "X");
            Tensor yt = readTargets(y);
            if (xt.dim(0) != yt.dim(0)) {
                throw new Main.UsageException(x + " has " + xt.dim(0) + " rows (samples) but " + y + " has " + yt.dim(0));
            }
            requireFinite(xt, x);
            requireFinite(yt, y);
            if (groups != null) opt = opt.withGroups(readGroups(groups, xt.dimInt(0), opt.folds()));
            else if (opt.folds() > xt.dim(0)) {
                throw new Main.UsageException("--folds " + opt.folds() + " is more than the " + xt.dim(0) + " samples of " + x);
            }
            return new Inputs(xt, yt, opt);
        }

        /** The input file names, in the model's metadata. */
        public void recordFiles(RidgeModel m) {
            m.putMetadata("x_file", x.toString());
            m.putMetadata("y_file", y.toString());
            if (groups != null) m.putMetadata("groups_file", groups.toString());
        }

        /** The Y file (tasks of a distributed fit read their target blocks from it). */
        public Path yFile() {
            return y;
        }

        public RidgeOptions options() {
            if (alphas.length == 0) throw new Main.UsageException("--alphas: the alpha grid is empty");
            for (double a : alphas) {
                if (!(a > 0) || Double.isInfinite(a)) throw new Main.UsageException("--alphas: every alpha must be finite and > 0, got " + a);
            }
            if (folds < 2) throw new Main.UsageException("--folds: need at least 2 folds, got " + folds);
            boolean perTarget = switch (alphaMode) {
                case "per-target" -> true;
                case "shared" -> false;
                default -> throw new Main.UsageException("--alpha-mode: expected per-target or shared, got '" + alphaMode + "'");
            };
            boolean f64 = isF64(dtype);
            RidgeOptions.Solver s;
            try {
                s = RidgeOptions.Solver.valueOf(solver.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new Main.UsageException("--solver: expected auto, primal or kernel, got '" + solver + "'");
            }
            return new RidgeOptions(alphas, folds, null, perTarget, standardize, !noIntercept, f64, s);
        }

    }

    // ------------------------------------------------------------------ input helpers

    static Tensor readMatrix(Path file, String what) {
        Tensor t = Npy.read(file);
        if (t.rank() != 2) throw new Main.UsageException(file + ": " + what + " must be a 2-D array (samples, features), got " + t.shapeString());
        return requireFloating(t, file);
    }

    static Tensor readTargets(Path file) {
        Tensor t = Npy.read(file);
        if (t.rank() == 1) t = t.reshape(t.dim(0), 1);
        if (t.rank() != 2) throw new Main.UsageException(file + ": Y must be (samples, targets) or (samples), got " + t.shapeString());
        return requireFloating(t, file);
    }

    private static Tensor requireFloating(Tensor t, Path file) {
        if (!t.dtype().isFloating()) throw new Main.UsageException(file + ": expected f32 or f64 values, got " + t.shapeString());
        return t;
    }

    /** {@code --model} and {@code --x} of predict and score: a fitted model, and inputs checked against it. */
    static final class ModelInputs {
        @Option(names = "--model", required = true, paramLabel = "model.safetensors", description = "A model from 'ridge fit'.")
        Path model;
        @Option(names = "--x", required = true, paramLabel = "X.npy", description = "Inputs (samples, features).")
        Path x;

        /** The model, and X (samples, features) checked to be float, finite and of the model's feature count. */
        Loaded load() {
            RidgeModel m = RidgeModel.load(model);
            Tensor xt = readMatrix(x, "X");
            if (xt.dim(1) != m.features()) {
                throw new Main.UsageException(x + " has " + xt.dim(1) + " features but " + model + " was fitted on " + m.features());
            }
            requireFinite(xt, x);
            return new Loaded(m, xt);
        }

        record Loaded(RidgeModel model, Tensor x) {}
    }

    static void requireFinite(Tensor t, Path file) {
        try {
            RidgeCV.requireFinite(t, file.toString());
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
    }

    /** Group ids → 0,1,2,… in order of first appearance (which keeps the fold split of the original ids). */
    static int[] readGroups(Path file, int n, int folds) {
        Tensor g = Npy.read(file);
        if (g.rank() == 2 && g.dim(1) == 1) g = g.reshape(g.dim(0));
        if (g.rank() != 1 || g.dim(0) != n) {
            throw new Main.UsageException("--groups " + file + ": expected " + n + " group ids (one per sample), got " + g.shapeString());
        }
        if (g.dtype() == DType.F32 || g.dtype() == DType.F64) {
            for (long i = 0; i < n; i++) {
                double v = g.getDouble(i);
                if (v != Math.rint(v)) throw new Main.UsageException("--groups " + file + ": id " + v + " at " + i + " is not an integer");
            }
        }
        long[] ids = g.toLongArray();
        Map<Long, Integer> code = new HashMap<>();
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = code.computeIfAbsent(ids[i], k -> code.size());
        if (code.size() < folds) {
            throw new Main.UsageException("--groups " + file + ": " + code.size() + " distinct groups cannot make " + folds + " folds");
        }
        return out;
    }

    /** The --dtype option of fit and bench: f32 or f64, any case. */
    static boolean isF64(String dtype) {
        return switch (dtype.toLowerCase(Locale.ROOT)) {
            case "f32" -> false;
            case "f64" -> true;
            default -> throw new Main.UsageException("--dtype: expected f32 or f64, got '" + dtype + "'");
        };
    }
}
