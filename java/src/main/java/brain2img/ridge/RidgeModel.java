package brain2img.ridge;

import brain2img.io.FormatException;
import brain2img.io.SafeTensors;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A fitted ridge model: predict = (X − x_mean) / x_scale · coef + intercept.
 *
 * <p>File layout (safetensors): {@code coef} (p,t), {@code intercept} (t), {@code x_mean} (p), {@code x_scale} (p)
 * in the fit dtype; {@code alpha} (t) and {@code cv_score} (len(alphas), t) in f64 (mean held-out R² per alpha
 * and target, alphas in grid order). The metadata holds the options (alphas, folds, groups, alpha_mode,
 * standardize, intercept, dtype, solver and the solvers used, linalg = which implementation computed) and
 * n_samples, n_features, n_targets.
 */
public final class RidgeModel {
    static final String FORMAT = "brain2img.ridge/1";

    private final Tensor coef, intercept, alpha, cvScore, xMean, xScale;
    private final Map<String, String> metadata;

    RidgeModel(Tensor coef, Tensor intercept, Tensor alpha, Tensor cvScore, Tensor xMean, Tensor xScale,
               Map<String, String> metadata) {
        this.coef = coef;
        this.intercept = intercept;
        this.alpha = alpha;
        this.cvScore = cvScore;
        this.xMean = xMean;
        this.xScale = xScale;
        this.metadata = new LinkedHashMap<>(metadata);
    }

    public Tensor coef() { return coef; }
    public Tensor intercept() { return intercept; }
    public Tensor alpha() { return alpha; }
    public Tensor cvScore() { return cvScore; }
    public Tensor xMean() { return xMean; }
    public Tensor xScale() { return xScale; }
    public int features() { return coef.dimInt(0); }
    public int targets() { return coef.dimInt(1); }
    public Map<String, String> metadata() { return Collections.unmodifiableMap(metadata); }

    /** Adds or replaces a metadata entry (e.g. the input file names), saved with the model. */
    public void putMetadata(String key, String value) {
        metadata.put(key, value);
    }

    /** Predictions (n, t) in the model's dtype for x (n, p) of any floating dtype. */
    /**
     * The pure-Java GEMM: its summation order per output element is fixed (KC-deep slices in order, k ascending
     * within one) whatever the number of rows, so a row predicted alone equals the same row predicted in a batch,
     * bit for bit. A volume decoded by {@code serve}, a chunk of test images decoded by one shard, and the offline
     * decode of all test images then agree exactly; OpenBLAS does not promise that (its kernels differ by shape).
     */
    private static final DenseLinAlg ROW_INVARIANT = new CpuDenseLinAlg();

    /** (X − x_mean)/x_scale · coef + intercept for x (n, features); each row's result does not depend on n. */
    public Tensor predict(Tensor x) {
        if (x.rank() != 2 || x.dim(1) != features()) {
            throw new IllegalArgumentException("predict: x " + x.shapeString() + " must be (samples, " + features() + ")");
        }
        RidgeCV.requireFinite(x, "x");
        int n = x.dimInt(0), t = targets();
        int[] rows = new int[n];
        Arrays.setAll(rows, i -> i);
        Tensor xs = RidgeSolve.standardizedRows(x, rows, xMean.toDoubleArray(), xScale.toDoubleArray(), coef.dtype());
        Tensor y = Tensor.allocateHeap(coef.dtype(), n, t);
        long rowBytes = (long) t * coef.dtype().bytes;
        for (int i = 0; i < n; i++) java.lang.foreign.MemorySegment.copy(intercept.segment(), 0, y.segment(), i * rowBytes, rowBytes);
        ROW_INVARIANT.gemm(false, false, n, t, features(), 1, xs, 0, features(), coef, 0, t, 1, y, 0, t);
        return y;
    }

    public void save(Path file) throws IOException {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("coef", coef);
        m.put("intercept", intercept);
        m.put("alpha", alpha);
        m.put("cv_score", cvScore);
        m.put("x_mean", xMean);
        m.put("x_scale", xScale);
        SafeTensors.write(file, m, metadata);
    }

    public static RidgeModel load(Path file) {
        try (SafeTensors st = SafeTensors.open(file)) {
            if (!FORMAT.equals(st.metadata().get("format"))) {
                throw new FormatException(file + ": not a brain2img ridge model (metadata format is "
                        + st.metadata().get("format") + ", expected " + FORMAT + ")");
            }
            Tensor coef = copy(st, "coef", 2);
            DType dt = coef.dtype();
            if (dt != DType.F32 && dt != DType.F64) throw new FormatException(file + ": coef has dtype " + dt.lower() + ", expected f32 or f64");
            int p = coef.dimInt(0), t = coef.dimInt(1);
            Tensor intercept = expect(file, copy(st, "intercept", 1), t, dt);
            Tensor alpha = expect(file, copy(st, "alpha", 1), t, DType.F64);
            Tensor xMean = expect(file, copy(st, "x_mean", 1), p, dt);
            Tensor xScale = expect(file, copy(st, "x_scale", 1), p, dt);
            Tensor cv = copy(st, "cv_score", 2);
            if (cv.dim(1) != t) throw new FormatException(file + ": cv_score " + cv.shapeString() + " does not have " + t + " targets");
            return new RidgeModel(coef, intercept, alpha, cv.to(DType.F64), xMean, xScale, st.metadata());
        }
    }

    private static Tensor copy(SafeTensors st, String name, int rank) {
        Tensor t = st.get(name);
        if (t.rank() != rank) throw new FormatException(st.file() + ": tensor '" + name + "' " + t.shapeString() + " should have rank " + rank);
        return t.to(t.dtype() == DType.F64 ? DType.F64 : DType.F32); // a heap copy, so the file can be closed
    }

    private static Tensor expect(Path file, Tensor t, int len, DType dt) {
        if (t.dim(0) != len) throw new FormatException(file + ": " + t.shapeString() + " should have length " + len);
        return t.dtype() == dt ? t : t.to(dt);
    }
}
