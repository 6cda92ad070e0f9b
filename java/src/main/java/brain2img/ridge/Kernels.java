package brain2img.ridge;

import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import brain2img.util.Parallel;

/** The element-wise loops of the CV scoring that run once per alpha, on the heap arrays directly (f32 or f64). */
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

    /** sse[j] += Σ_i (a[i, j] − b[i, j])² in double, for a, b (rows, sse.length) of the same dtype. */
    static void addSquaredDifferences(Tensor a, Tensor b, double[] sse) {
        int rows = a.dimInt(0), cols = a.dimInt(1);
        float[] af = a.heapFloats(), bf = b.heapFloats();
        double[] ad = af == null ? CpuDenseLinAlg.doubles(a) : null, bd = af == null ? CpuDenseLinAlg.doubles(b) : null;
        // split over columns so each thread owns its part of sse
        Parallel.forRange(cols, 256, (j0, j1) -> {
            for (int i = 0; i < rows; i++) {
                int base = i * cols;
                if (af != null) {
                    for (int j = j0; j < j1; j++) {
                        double d = (double) af[base + j] - bf[base + j];
                        sse[j] += d * d;
                    }
                } else {
                    for (int j = j0; j < j1; j++) {
                        double d = ad[base + j] - bd[base + j];
                        sse[j] += d * d;
                    }
                }
            }
        });
    }
}
