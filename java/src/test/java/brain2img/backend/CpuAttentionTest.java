package brain2img.backend;

import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The blocked CPU attention and softmax against a naive double-precision reference. */
class CpuAttentionTest {
    private final CpuBackend be = new CpuBackend();

    private static Tensor random(Random r, float amp, long... shape) {
        float[] d = new float[Math.toIntExact(Tensor.numel(shape))];
        for (int i = 0; i < d.length; i++) d[i] = (float) (amp * r.nextGaussian());
        return Tensor.of(d, shape);
    }

    /** softmax(scale·q kᵀ + mask) v per head, in double. */
    private static double[] naive(Tensor q, Tensor k, Tensor v, int heads, float scale, Tensor mask, boolean causal) {
        int b = q.dimInt(0), lq = q.dimInt(1), lk = k.dimInt(1), dk = q.dimInt(2) / heads, dv = v.dimInt(2) / heads;
        float[] qf = q.toFloatArray(), kf = k.toFloatArray(), vf = v.toFloatArray();
        double[] out = new double[b * lq * heads * dv];
        for (int bi = 0; bi < b; bi++) for (int h = 0; h < heads; h++) for (int i = 0; i < lq; i++) {
            double[] s = new double[lk];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < lk; j++) {
                double d = 0;
                for (int p = 0; p < dk; p++) d += (double) qf[(bi * lq + i) * heads * dk + h * dk + p] * kf[(bi * lk + j) * heads * dk + h * dk + p];
                s[j] = scale * d + (mask == null ? 0 : mask.getFloat((long) i * lk + j));
                if (causal && j > i) s[j] = Double.NEGATIVE_INFINITY;
                max = Math.max(max, s[j]);
            }
            double sum = 0;
            for (int j = 0; j < lk; j++) sum += s[j] = Math.exp(s[j] - max);
            for (int j = 0; j < lk; j++) for (int p = 0; p < dv; p++) {
                out[(bi * lq + i) * heads * dv + h * dv + p] += s[j] / sum * vf[(bi * lk + j) * heads * dv + h * dv + p];
            }
        }
        return out;
    }

    private static double relErr(double[] ref, float[] got) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            num += (got[i] - ref[i]) * (got[i] - ref[i]);
            den += ref[i] * ref[i];
        }
        return Math.sqrt(num / den);
    }

    @Test
    void crossAttentionWithOddSizes() {
        Random r = new Random(1);
        // 70 queries (two full blocks of 32 and a partial one), 77 keys, 5 heads of 8 (q/k) and 12 (v)
        Tensor q = random(r, 1, 2, 70, 40), k = random(r, 1, 2, 77, 40), v = random(r, 1, 2, 77, 60);
        Tensor got = be.attention(q, k, v, 5, 0.35f, null, false);
        double e = relErr(naive(q, k, v, 5, 0.35f, null, false), got.toFloatArray());
        assertTrue(e < 1e-5, "relative error " + e);
    }

    @Test
    void causalAndAdditiveMask() {
        Random r = new Random(2);
        Tensor q = random(r, 1, 1, 37, 24), k = random(r, 1, 1, 37, 24), v = random(r, 1, 1, 37, 24);
        Tensor mask = random(r, 2, 37, 37);
        for (boolean causal : new boolean[]{true, false}) {
            Tensor m = causal ? null : mask;
            double e = relErr(naive(q, k, v, 3, 0.5f, m, causal), be.attention(q, k, v, 3, 0.5f, m, causal).toFloatArray());
            assertTrue(e < 1e-5, (causal ? "causal" : "mask") + ": relative error " + e);
        }
    }

    @Test
    void vectorExpIsAccurateAndZeroBelowTheRange() {
        var sp = CpuGemm.SPECIES;
        float[] x = new float[sp.length()];
        double worst = 0;
        for (float start = -90f; start <= 88f; start += 0.37f) {
            for (int i = 0; i < x.length; i++) x[i] = start + i * 0.0231f;
            float[] got = new float[x.length];
            CpuBackend.expVector(jdk.incubator.vector.FloatVector.fromArray(sp, x, 0)).intoArray(got, 0);
            for (int i = 0; i < x.length; i++) {
                if (x[i] < -87f) {
                    assertTrue(got[i] == 0f, "exp(" + x[i] + ") = " + got[i]);
                } else if (x[i] <= 88f) {
                    double ref = Math.exp(x[i]);
                    worst = Math.max(worst, Math.abs(got[i] - ref) / Math.ulp((float) ref));
                }
            }
        }
        assertTrue(worst <= 2.0, "worst error " + worst + " ulp");
        float[] inf = new float[sp.length()];
        java.util.Arrays.fill(inf, Float.NEGATIVE_INFINITY);
        CpuBackend.expVector(jdk.incubator.vector.FloatVector.fromArray(sp, inf, 0)).intoArray(inf, 0);
        for (float v : inf) assertTrue(v == 0f);
    }

    @Test
    void softmaxRowsSumToOneAndMatchTheFormula() {
        Random r = new Random(3);
        Tensor x = random(r, 4, 3, 101);
        x.setFloat(5, Float.NEGATIVE_INFINITY);
        float[] got = be.softmax(x).toFloatArray();
        for (int row = 0; row < 3; row++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < 101; j++) max = Math.max(max, x.getFloat(row * 101 + j));
            for (int j = 0; j < 101; j++) sum += Math.exp(x.getFloat(row * 101 + j) - max);
            for (int j = 0; j < 101; j++) {
                double ref = Math.exp(x.getFloat(row * 101 + j) - max) / sum;
                assertTrue(Math.abs(got[row * 101 + j] - ref) <= 1e-6 * Math.max(ref, 1e-3), "row " + row + " j " + j);
            }
        }
        assertTrue(got[5] == 0f);
    }
}
