package brain2img.ridge;

import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import brain2img.util.Parallel;

/** The element-wise loops of the ridge engine, multi-threaded, on the heap arrays directly (f32 or f64). */
final class Kernels {
    private Kernels() {}

    /** out[i, j] = m[i, j] · d[j] for m, out (rows, d.length) of the same dtype. */
    static void scaleColumns(Tensor m, double[] d, Tensor out) {
        int rows = m.dimInt(0), cols = m.dimInt(1);
        if (m.dtype() == DType.F32) {
            float[] a = m.heapFloats(), o = out.heapFloats();
            float[] df = new float[cols];
            for (int j = 0; j < cols; j++) df[j] = (float) d[j];
            Parallel.forRange(rows, 16, (i0, i1) -> {
                for (int i = i0; i < i1; i++) {
                    int base = i * cols;
                    for (int j = 0; j < cols; j++) o[base + j] = a[base + j] * df[j];
                }
            });
        } else {
            double[] a = CpuDenseLinAlg.doubles(m), o = CpuDenseLinAlg.doubles(out);
            Parallel.forRange(rows, 16, (i0, i1) -> {
                for (int i = i0; i < i1; i++) {
                    int base = i * cols;
                    for (int j = 0; j < cols; j++) o[base + j] = a[base + j] * d[j];
                }
            });
        }
    }

    /** m[i, :] *= d[i] in place, for m (d.length, cols) f32 or f64. */
    static void scaleRows(Tensor m, double[] d) {
        int cols = m.dimInt(1);
        Parallel.forRange(d.length, 16, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                long o = (long) i * cols;
                for (int j = 0; j < cols; j++) m.setDouble(o + j, m.getDouble(o + j) * d[i]);
            }
        });
    }

    /** q[i, j] /= λ_i + α[c0 + j] in place for q (λ.length, w): the ridge shrinkage D_α, each target with its own alpha. */
    static void shrink(Tensor q, double[] lambda, double[] alpha, int c0) {
        int w = q.dimInt(1);
        for (int i = 0; i < lambda.length; i++) {
            long o = (long) i * w;
            for (int j = 0; j < w; j++) q.setDouble(o + j, q.getDouble(o + j) / (lambda[i] + alpha[c0 + j]));
        }
    }

    /** (g + gᵀ)/2 of a square f32 or f64 matrix as a new f64 matrix with both triangles filled, for the eigensolver. */
    static Tensor symmetricF64(Tensor g) {
        int r = g.dimInt(0);
        Tensor out = Tensor.allocateHeap(DType.F64, r, r);
        double[] o = out.heapDoubles();
        Parallel.forRange(r, 16, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                for (int j = 0; j < r; j++) o[i * r + j] = 0.5 * (g.getDouble((long) i * r + j) + g.getDouble((long) j * r + i));
            }
        });
        return out;
    }

    /**
     * sse[j] += Σ_i (a[i, j] − off[j] − b[i, j])² in double, for a, b (rows, sse.length) of the same dtype;
     * off null means 0 (a held-out target block, an offset that moves it to the training mean, a prediction).
     */
    static void addSquaredDifferences(Tensor a, double[] off, Tensor b, double[] sse) {
        int rows = a.dimInt(0), cols = a.dimInt(1);
        float[] af = a.heapFloats(), bf = b.heapFloats();
        double[] ad = af == null ? CpuDenseLinAlg.doubles(a) : null, bd = af == null ? CpuDenseLinAlg.doubles(b) : null;
        double[] o = off != null ? off : new double[cols];
        // split over columns so each thread owns its part of sse
        Parallel.forRange(cols, 256, (j0, j1) -> {
            for (int i = 0; i < rows; i++) {
                int base = i * cols;
                if (af != null) {
                    for (int j = j0; j < j1; j++) {
                        double d = (double) af[base + j] - o[j] - bf[base + j];
                        sse[j] += d * d;
                    }
                } else {
                    for (int j = j0; j < j1; j++) {
                        double d = ad[base + j] - o[j] - bd[base + j];
                        sse[j] += d * d;
                    }
                }
            }
        });
    }

    /**
     * A new (rows.length, c1−c0) tensor of dtype dt with out[i, j] = (src[rows[i], c0+j] − sub[c0+j]) / div[c0+j]:
     * selected rows and columns of a 2-D float tensor, shifted and scaled per column, in double. rows null = all
     * rows; sub null = no shift; div null = no scaling.
     */
    static Tensor centredRows(Tensor src, int[] rows, int c0, int c1, double[] sub, double[] div, DType dt) {
        int cols = src.dimInt(1), w = c1 - c0, nr = rows == null ? src.dimInt(0) : rows.length;
        Tensor out = Tensor.allocateHeap(dt, nr, w);
        float[] sf = src.heapFloats(), of = out.heapFloats();
        double[] sd = src.heapDoubles(), od = out.heapDoubles();
        Parallel.forRange(nr, 8, (i0, i1) -> {
            double[] v = new double[w];
            for (int i = i0; i < i1; i++) {
                long base = (long) (rows == null ? i : rows[i]) * cols + c0;
                if (sf != null) for (int j = 0; j < w; j++) v[j] = sf[(int) base + j];
                else if (sd != null) for (int j = 0; j < w; j++) v[j] = sd[(int) base + j];
                else for (int j = 0; j < w; j++) v[j] = src.getDouble(base + j);
                if (sub != null) for (int j = 0; j < w; j++) v[j] -= sub[c0 + j];
                if (div != null) for (int j = 0; j < w; j++) v[j] /= div[c0 + j];
                int o = i * w;
                if (of != null) for (int j = 0; j < w; j++) of[o + j] = (float) v[j];
                else for (int j = 0; j < w; j++) od[o + j] = v[j];
            }
        });
        return out;
    }

    /** Column sums in double of a 2-D float tensor (rows, cols). */
    static double[] columnSums(Tensor m) {
        return columnSums(m, null, null);
    }

    /**
     * Column sums in double over the given rows (null = all) of a 2-D float tensor (rows, cols); with centre
     * non-null, the sums of squared deviations Σ (m[i, j] − centre[j])² instead.
     */
    static double[] columnSums(Tensor m, int[] rows, double[] centre) {
        int cols = m.dimInt(1), nr = rows == null ? m.dimInt(0) : rows.length;
        double[] sum = new double[cols];
        float[] f = m.heapFloats();
        double[] d = m.heapDoubles();
        Parallel.forRange(cols, 256, (j0, j1) -> {
            for (int r = 0; r < nr; r++) {
                long base = (long) (rows == null ? r : rows[r]) * cols;
                for (int j = j0; j < j1; j++) {
                    double v = f != null ? f[(int) base + j] : d != null ? d[(int) base + j] : m.getDouble(base + j);
                    if (centre == null) sum[j] += v;
                    else sum[j] += (v - centre[j]) * (v - centre[j]);
                }
            }
        });
        return sum;
    }
}
