package brain2img.pipeline;

import brain2img.eval.Correlation;
import brain2img.io.Npy;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Row operations on 2-D (n, d) matrices that both pipelines use for targets, responses and nulls. */
final class Rows {
    private Rows() {
    }

    /** 0, 1, …, n−1. */
    static int[] identity(int n) {
        int[] all = new int[n];
        Arrays.setAll(all, i -> i);
        return all;
    }

    /** Image id → its row in {@code ids}. */
    static Map<Integer, Integer> rowOf(int[] ids) {
        Map<Integer, Integer> m = new HashMap<>();
        for (int i = 0; i < ids.length; i++) m.put(ids[i], i);
        return m;
    }

    /** (rows.length, cols.length) f32 copy of m[rows][cols]; m may be a memory-mapped f32 matrix. */
    static Tensor gather(Tensor m, int[] rows, int[] cols) {
        int w = m.dimInt(1);
        float[] out = new float[rows.length * cols.length];
        float[] buf = new float[w];
        for (int r = 0; r < rows.length; r++) {
            if (m.dtype() == DType.F32) {
                MemorySegment.copy(m.segment(), Tensor.F32, (long) rows[r] * w * 4, buf, 0, w);
            } else {
                for (int c = 0; c < w; c++) buf[c] = m.getFloat((long) rows[r] * w + c);
            }
            for (int c = 0; c < cols.length; c++) out[r * cols.length + c] = buf[cols[c]];
        }
        return Tensor.of(out, rows.length, cols.length);
    }

    /** Rows of a 2-D tensor, in the given order (f32). */
    static Tensor rows(Tensor m, int[] idx) {
        int w = m.dimInt(1);
        float[] src = m.toFloatArray(), out = new float[idx.length * w];
        for (int i = 0; i < idx.length; i++) System.arraycopy(src, idx[i] * w, out, i * w, w);
        return Tensor.of(out, idx.length, w);
    }

    /** (1, d) mean of the rows, accumulated in double. */
    static Tensor meanRow(Tensor m) {
        int n = m.dimInt(0), w = m.dimInt(1);
        float[] src = m.toFloatArray();
        double[] acc = new double[w];
        for (int i = 0; i < n; i++) for (int j = 0; j < w; j++) acc[j] += src[i * w + j];
        float[] mean = new float[w];
        for (int j = 0; j < w; j++) mean[j] = (float) (acc[j] / n);
        return Tensor.of(mean, 1, w);
    }

    /** For each row of {@code decoded}, the row of {@code train} with the highest Pearson correlation. */
    static int[] nearestRows(Tensor decoded, Tensor train) {
        double[][] r = Correlation.matrix(toRows(decoded), toRows(train));
        int[] best = new int[r.length];
        for (int i = 0; i < r.length; i++) {
            for (int j = 1; j < r[i].length; j++) if (r[i][j] > r[i][best[i]]) best[i] = j;
        }
        return best;
    }

    static double[][] toRows(Tensor m) {
        int n = m.dimInt(0), w = m.dimInt(1);
        double[] all = m.toDoubleArray();
        double[][] rows = new double[n][];
        for (int i = 0; i < n; i++) rows[i] = Arrays.copyOfRange(all, i * w, (i + 1) * w);
        return rows;
    }

    /** Equal-length rows stacked into an (n, d) f32 matrix. */
    static Tensor matrix(List<float[]> rows) {
        int d = rows.get(0).length;
        float[] all = new float[rows.size() * d];
        for (int i = 0; i < rows.size(); i++) System.arraycopy(rows.get(i), 0, all, i * d, d);
        return Tensor.of(all, rows.size(), d);
    }

    /** A seeded random permutation without fixed points (Sattolo's algorithm: a single n-cycle). */
    static int[] derangement(int n, long seed) {
        if (n < 2) throw new IllegalArgumentException("a derangement needs at least 2 items, got " + n);
        int[] p = identity(n);
        Random rnd = new Random(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
