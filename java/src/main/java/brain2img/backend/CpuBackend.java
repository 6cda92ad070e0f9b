package brain2img.backend;

import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import brain2img.util.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.ref.SoftReference;
import java.util.Arrays;

/**
 * The reference backend: Java, Vector API inner loops (scalar fallback with
 * {@code -Dbrain2img.vector=false}), parallel over the cores of the common fork-join pool; large GEMMs and
 * convolutions by a system OpenBLAS where one is installed ({@code -Dbrain2img.blas=off}: all pure Java).
 * Every result is a heap f32 tensor.
 */
public final class CpuBackend implements Backend {

    /** The instance other backends' host fallbacks compute with (the CPU backend holds no mutable state). */
    static final CpuBackend HOST = new CpuBackend();

    /**
     * The system OpenBLAS where one is installed (and not {@code -Dbrain2img.blas=off}): it does the GEMMs of more
     * than {@link CpuGemm#SMALL_M} rows and the convolutions' im2col products, several times faster than our
     * Vector-API kernel; without it (or switched off) the pure-Java GEMM, which the tests also run, does them.
     */
    private final OpenBlas blas;

    /** With the system OpenBLAS where one is installed. */
    public CpuBackend() {
        this(OpenBlas.system().orElse(null));
    }

    private CpuBackend(OpenBlas blas) {
        this.blas = blas;
    }

    /**
     * All in Java, whatever is installed: results that do not depend on the machine's libraries, and a GEMM whose
     * summation order does not depend on the number of rows (what the ridge models' row-invariant predict needs).
     */
    public static CpuBackend pureJava() {
        return new CpuBackend(null);
    }

    /** Upper bound on floats in one im2col buffer (128 MiB), so big convolutions are done in row bands. */
    private static final long IM2COL_LIMIT = 32L << 20;

    @Override
    public String name() { return "cpu"; }

    @Override
    public String describe() {
        return "cpu: " + Parallel.threads() + " threads, "
                + (CpuGemm.VECTOR ? "Vector API " + CpuGemm.SPECIES.vectorBitSize() + "-bit" : "scalar (Vector API off)")
                + (blas != null ? ", GEMM by OpenBLAS (" + blas.library() + ", " + blas.kernels() + ")" : ", pure-Java GEMM");
    }

    // ------------------------------------------------------------------ gemm

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     Tensor a, long aOff, int lda, long strideA,
                     Tensor b, long bOff, int ldb, long strideB,
                     float beta, Tensor c, long cOff, int ldc, long strideC, int batch) {
        float[] af = a.floats();
        float[] bf = b.floats();
        float[] cf = c.heapFloats();
        if (cf == null) throw new IllegalArgumentException("gemm output must be a heap f32 tensor, got " + c);
        for (int bi = 0; bi < batch; bi++) {
            int ao = Math.toIntExact(aOff + bi * strideA);
            int co = Math.toIntExact(cOff + bi * strideC);
            if (m <= CpuGemm.SMALL_M) {
                // a few rows (a linear layer on one image): B is streamed once, never packed
                CpuGemm.smallM(transA, transB, m, n, k, alpha, af, ao, lda, bf, Math.toIntExact(bOff + bi * strideB), ldb,
                        beta, cf, co, ldc);
                continue;
            }
            if (blas != null) {
                blas.sgemm(transA, transB, m, n, k, alpha, af, ao, lda, bf, Math.toIntExact(bOff + bi * strideB), ldb,
                        beta, cf, co, ldc);
                continue;
            }
            float[] packed = CpuGemm.packB(transB, n, k, bf, Math.toIntExact(bOff + bi * strideB), ldb);
            gemmPacked(transA, m, n, k, alpha, af, ao, lda, packed, beta, cf, co, ldc);
        }
    }

    /**
     * C = alpha·op(A)·B + beta·C with B already packed. Work is split over the longer side: whole MR-row
     * blocks when C is tall (each task streams all of B), whole B panels when it is wide (each task packs
     * all of A, which is then the smaller matrix), so no operand is re-read once per thread needlessly.
     */
    private static void gemmPacked(boolean transA, int m, int n, int k, float alpha, float[] af, int ao, int lda,
                                   float[] packed, float beta, float[] cf, int co, int ldc) {
        int rowBlocks = (m + CpuGemm.MR - 1) / CpuGemm.MR, panels = CpuGemm.panels(n);
        if (rowBlocks >= panels) {
            Parallel.forRange(rowBlocks, Math.max(1, 4096 / Math.max(1, n)), (from, to) ->
                    CpuGemm.rows(transA, m, n, k, alpha, af, ao, lda, packed, beta, cf, co, ldc,
                            from * CpuGemm.MR, Math.min(m, to * CpuGemm.MR), new CpuGemm.Scratch()));
        } else {
            Parallel.forRange(panels, Math.max(2, 4096 * CpuGemm.MR / (CpuGemm.NR * Math.max(1, m))), (from, to) ->
                    CpuGemm.block(transA, n, k, alpha, af, ao, lda, packed, beta, cf, co, ldc,
                            0, m, from, to, new CpuGemm.Scratch()));
        }
    }

    // ------------------------------------------------------------------ conv2d

    @Override
    public Tensor conv2d(Tensor x, Tensor w, Tensor bias, int sh, int sw, int pt, int pb, int pl, int pr) {
        return conv2d(x, w, bias, 1, sh, sw, pt, pb, pl, pr);
    }

    /** im2col + packed GEMM per image and group; depthwise convolutions (one input channel per group) go direct. */
    @Override
    public Tensor conv2d(Tensor x, Tensor w, Tensor bias, int groups, int sh, int sw, int pt, int pb, int pl, int pr) {
        Conv2dShape s = Conv2dShape.of(x, w, groups, sh, sw, pt, pb, pl, pr);
        int bsz = s.batch(), hh = s.height(), ww = s.width();
        int oc = s.outChannels(), kh = s.kh(), kw = s.kw(), ho = s.outHeight(), wo = s.outWidth();
        int cg = s.channels() / groups, og = oc / groups;    // channels per group in and out
        Tensor out = Tensor.zeros(bsz, oc, ho, wo);
        float[] of = out.heapFloats();
        float[] xf = x.floats(), wf = w.floats();
        if (cg == 1 && groups > 1) {
            Depthwise.conv(xf, wf, of, bsz, groups, og, hh, ww, kh, kw, sh, sw, pt, pl, ho, wo);
        } else {
            int ckk = cg * kh * kw;
            int bandRows = (int) Math.max(1, Math.min(ho, IM2COL_LIMIT / Math.max(1L, (long) ckk * wo)));
            for (int b = 0; b < bsz; b++) {
                for (int g = 0; g < groups; g++) {
                    int xBase = (b * s.channels() + g * cg) * hh * ww;
                    int oBase = (b * oc + g * og) * ho * wo;
                    int wBase = g * og * ckk;
                    if (s.pointwise()) {
                        gemm(false, false, og, ho * wo, cg, 1f, w, wBase, cg, 0, x, xBase, hh * ww, 0, 0f, out, oBase, ho * wo, 0, 1);
                        continue;
                    }
                    for (int r0 = 0; r0 < ho; r0 += bandRows) {
                        int rows = Math.min(bandRows, ho - r0), cols = rows * wo;
                        // out[:, r0*wo .. +cols] = W_g (og×ckk) · col (ckk×cols), written with ldc = ho*wo
                        if (blas != null) {
                            float[] col = im2colRows(xf, xBase, cg, hh, ww, kh, kw, sh, sw, pt, pl, r0, rows, wo);
                            blas.sgemm(false, false, og, cols, ckk, 1f, wf, wBase, ckk, col, 0, cols, 0f, of, oBase + r0 * wo, ho * wo);
                        } else {
                            float[] packed = im2col(xf, xBase, cg, hh, ww, kh, kw, sh, sw, pt, pl, r0, rows, wo);
                            gemmPacked(false, og, cols, ckk, 1f, wf, wBase, ckk, packed, 0f, of, oBase + r0 * wo, ho * wo);
                        }
                    }
                }
            }
        }
        if (bias != null) addChannelBias(of, bias.floats(), bsz, oc, ho * wo);
        return out;
    }

    /**
     * Per image and group: columns (Cout/g·kh·kw × H·W) = W_gᵀ · x_g by the packed GEMM, then col2im adds each
     * column entry into its output pixel. Input rows go in bands so the column buffer stays bounded.
     */
    @Override
    public Tensor convTranspose2d(Tensor x, Tensor w, Tensor bias, int groups, int sh, int sw, int pt, int pl,
                                  int outH, int outW) {
        Conv2dShape.checkTransposed(x, w, groups, outH, outW);
        int bsz = x.dimInt(0), cin = x.dimInt(1), hh = x.dimInt(2), ww = x.dimInt(3);
        int og = w.dimInt(1), kh = w.dimInt(2), kw = w.dimInt(3);
        int cg = cin / groups, oc = og * groups, okk = og * kh * kw;
        Tensor out = Tensor.zeros(bsz, oc, outH, outW);
        float[] of = out.heapFloats();
        float[] xf = blas != null ? x.floats() : null, wf = blas != null ? w.floats() : null;
        int bandRows = (int) Math.max(1, Math.min(hh, IM2COL_LIMIT / Math.max(1L, (long) okk * ww)));
        for (int b = 0; b < bsz; b++) {
            for (int g = 0; g < groups; g++) {
                int xBase = (b * cin + g * cg) * hh * ww;
                int oBase = (b * oc + g * og) * outH * outW;
                for (int r0 = 0; r0 < hh; r0 += bandRows) {
                    int rows = Math.min(bandRows, hh - r0), n = rows * ww;
                    float[] cols;
                    if (blas != null) {
                        // beta = 0: BLAS overwrites every entry, so the reused buffer's old content never leaks in
                        cols = scratch((long) okk * n);
                        blas.sgemm(true, false, okk, n, cg, 1f, wf, g * cg * okk, okk, xf, xBase + r0 * ww, hh * ww, 0f, cols, 0, n);
                    } else {
                        Tensor c = Tensor.zeros(okk, n);
                        gemm(true, false, okk, n, cg, 1f, w, (long) g * cg * okk, okk, 0, x, xBase + r0 * ww, hh * ww, 0,
                                0f, c, 0, n, 0, 1);
                        cols = c.heapFloats();
                    }
                    col2im(cols, of, oBase, og, kh, kw, sh, sw, pt, pl, r0, rows, ww, outH, outW);
                }
            }
        }
        if (bias != null) addChannelBias(of, bias.floats(), bsz, oc, outH * outW);
        return out;
    }

    /** out[c, r·sh−pt+i, q·sw−pl+j] += cols[(c,i,j), (r−r0)·w+q] for input rows r of the band; parallel over c. */
    private static void col2im(float[] cols, float[] out, int oBase, int channels, int kh, int kw, int sh, int sw,
                               int pt, int pl, int r0, int rows, int w, int outH, int outW) {
        int n = rows * w;
        Parallel.forRange(channels, 1, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                int plane = oBase + c * outH * outW;
                for (int i = 0; i < kh; i++) {
                    for (int j = 0; j < kw; j++) {
                        int src = ((c * kh + i) * kw + j) * n;
                        for (int r = 0; r < rows; r++) {
                            int y = (r0 + r) * sh - pt + i;
                            if (y < 0 || y >= outH) continue;
                            int dst = plane + y * outW, srow = src + r * w;
                            if (sw == 1) {
                                int q0 = Math.max(0, pl - j), q1 = Math.min(w, outW + pl - j);
                                for (int q = q0; q < q1; q++) out[dst + q - pl + j] += cols[srow + q];
                            } else {
                                for (int q = 0; q < w; q++) {
                                    int xx = q * sw - pl + j;
                                    if (xx >= 0 && xx < outW) out[dst + xx] += cols[srow + q];
                                }
                            }
                        }
                    }
                }
            }
        });
    }

    /**
     * One buffer per thread for the BLAS path's im2col and col2im matrices, reused from call to call (held softly, so
     * the collector may take it back): VGG19 at 224² would otherwise allocate and zero about 1 GB of them per forward
     * and backward pass. Its content on return is whatever the last use left.
     */
    private static final ThreadLocal<SoftReference<float[]>> SCRATCH = new ThreadLocal<>();

    private static float[] scratch(long size) {
        SoftReference<float[]> ref = SCRATCH.get();
        float[] a = ref == null ? null : ref.get();
        if (a == null || a.length < size) {
            a = new float[Math.toIntExact(size)];
            SCRATCH.set(new SoftReference<>(a));
        }
        return a;
    }

    /**
     * The plain row-major im2col matrix BLAS takes (ckk × rows·wo, rows and columns as {@link #im2col}), in this
     * thread's {@link #scratch} buffer, filled a row segment at a time: for stride 1 each output row's taps are one
     * contiguous copy of an input row; taps in the padding are written as zeros (the buffer is reused).
     */
    private static float[] im2colRows(float[] x, int xBase, int ch, int hh, int ww, int kh, int kw, int sh, int sw,
                                      int pt, int pl, int r0, int rows, int wo) {
        int cols = rows * wo;
        float[] out = scratch((long) ch * kh * kw * cols);
        Parallel.forRange(ch * kh * kw, 1, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int c = t / (kh * kw), i = (t / kw) % kh, j = t % kw;
                // output columns q whose tap x = q·sw − pl + j lies inside the input row
                int q0 = Math.min(wo, Math.max(0, (pl - j + sw - 1) / sw));
                int q1 = Math.max(q0, Math.min(wo, Math.floorDiv(ww - 1 + pl - j, sw) + 1));
                for (int r = 0; r < rows; r++) {
                    int y = (r0 + r) * sh - pt + i, dst = t * cols + r * wo;
                    if (y < 0 || y >= hh) {
                        Arrays.fill(out, dst, dst + wo, 0f);
                        continue;
                    }
                    Arrays.fill(out, dst, dst + q0, 0f);
                    Arrays.fill(out, dst + q1, dst + wo, 0f);
                    int src = xBase + (c * hh + y) * ww + q0 * sw - pl + j;
                    if (sw == 1) {
                        System.arraycopy(x, src, out, dst + q0, q1 - q0);
                    } else {
                        for (int q = q0, d = dst + q0; q < q1; q++, src += sw) out[d++] = x[src];
                    }
                }
            }
        });
        return out;
    }

    /**
     * The im2col matrix (ckk × rows·wo: one row per (channel, kernel offset), one column per output pixel of
     * the band) in the packed-B layout of our GEMM (panels of {@code CpuGemm.NR} columns), written directly so it is
     * never copied a second time. Taps in the padding stay zero.
     */
    private static float[] im2col(float[] x, int xBase, int ch, int hh, int ww, int kh, int kw, int sh, int sw,
                                  int pt, int pl, int r0, int rows, int wo) {
        int nr = CpuGemm.NR, ckk = ch * kh * kw, panelSize = ckk * nr;
        float[] packed = new float[CpuGemm.panels(rows * wo) * panelSize];
        Parallel.forRange(ch, 1, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                for (int i = 0; i < kh; i++) {
                    for (int j = 0; j < kw; j++) {
                        int rowOff = ((c * kh + i) * kw + j) * nr;    // this tap's row inside every panel
                        for (int r = 0; r < rows; r++) {
                            int y = (r0 + r) * sh - pt + i;
                            if (y < 0 || y >= hh) continue;
                            int src = xBase + (c * hh + y) * ww;
                            for (int q = 0; q < wo; q++) {
                                int xx = q * sw - pl + j;
                                if (xx < 0 || xx >= ww) continue;
                                int col = r * wo + q;
                                packed[(col / nr) * panelSize + rowOff + col % nr] = x[src + xx];
                            }
                        }
                    }
                }
            }
        });
        return packed;
    }

    private static void addChannelBias(float[] out, float[] bias, int bsz, int ch, int spatial) {
        Parallel.forRange(bsz * ch, 16, (from, to) -> {
            for (int bc = from; bc < to; bc++) {
                float v = bias[bc % ch];
                int base = bc * spatial;
                for (int i = 0; i < spatial; i++) out[base + i] += v;
            }
        });
    }

    // ------------------------------------------------------------------ pooling, activations, resampling

    @Override
    public Tensor maxPool2d(Tensor x, int kh, int kw, int sh, int sw, int ph, int pw, boolean ceilMode) {
        return Pooling.maxPool(x, kh, kw, sh, sw, ph, pw, ceilMode, null);
    }

    @Override
    public Tensor maxPool2dBackward(Tensor x, Tensor gradOut, int kh, int kw, int sh, int sw, int ph, int pw, boolean ceilMode) {
        return Pooling.maxPool(x, kh, kw, sh, sw, ph, pw, ceilMode, gradOut);
    }

    @Override
    public Tensor avgPool2d(Tensor x, int kh, int kw, int sh, int sw, int ph, int pw, boolean ceilMode, boolean countIncludePad) {
        checkRank4(x, "avgPool2d");
        return Pooling.avgPool(x.floats(), x.dim(0), x.dim(1), x.dimInt(2), x.dimInt(3), kh, kw, sh, sw, ph, pw,
                ceilMode, countIncludePad, false);
    }

    @Override
    public Tensor avgPool2dBackward(Tensor gradOut, int inH, int inW, int kh, int kw, int sh, int sw, int ph, int pw,
                                    boolean ceilMode, boolean countIncludePad) {
        checkRank4(gradOut, "avgPool2dBackward");
        if (gradOut.dim(2) != PoolShape.outSize(inH, kh, sh, ph, ceilMode) || gradOut.dim(3) != PoolShape.outSize(inW, kw, sw, pw, ceilMode)) {
            throw new IllegalArgumentException("avgPool2dBackward: gradient " + gradOut.shapeString() + " does not fit input " + inH + "x" + inW);
        }
        return Pooling.avgPool(gradOut.floats(), gradOut.dim(0), gradOut.dim(1), inH, inW, kh, kw, sh, sw, ph, pw,
                ceilMode, countIncludePad, true);
    }

    @Override
    public Tensor adaptiveAvgPool2d(Tensor x, int outH, int outW) {
        checkRank4(x, "adaptiveAvgPool2d");
        return Pooling.adaptiveAvg(x.floats(), x.dim(0), x.dim(1), x.dimInt(2), x.dimInt(3), outH, outW, false);
    }

    @Override
    public Tensor adaptiveAvgPool2dBackward(Tensor gradOut, int inH, int inW) {
        checkRank4(gradOut, "adaptiveAvgPool2dBackward");
        return Pooling.adaptiveAvg(gradOut.floats(), gradOut.dim(0), gradOut.dim(1), inH, inW, gradOut.dimInt(2),
                gradOut.dimInt(3), true);
    }

    private static void checkRank4(Tensor x, String what) {
        if (x.rank() != 4) throw new IllegalArgumentException(what + ": " + x.shapeString() + " is not (B,C,H,W)");
    }

    @Override
    public Tensor activate(Act act, float slope, Tensor x) {
        float[] xf = x.floats();
        float[] out = new float[xf.length];
        Parallel.forRange(xf.length, 1 << 14, (from, to) -> {
            int i = rectifier(act) ? rectifyVector(xf, xf, slope(act, slope), out, from, to) : from;
            for (; i < to; i++) out[i] = Activations.apply(act, slope, xf[i]);
        });
        return Tensor.of(out, x.shape());
    }

    @Override
    public Tensor activateBackward(Act act, float slope, Tensor x, Tensor gradOut) {
        if (!x.sameShape(gradOut)) throw new IllegalArgumentException("activateBackward: " + x.shapeString() + " vs " + gradOut.shapeString());
        float[] xf = x.floats(), gf = gradOut.floats();
        float[] out = new float[xf.length];
        Parallel.forRange(xf.length, 1 << 14, (from, to) -> {
            int i = rectifier(act) ? rectifyVector(xf, gf, slope(act, slope), out, from, to) : from;
            for (; i < to; i++) out[i] = Activations.backward(act, slope, xf[i], gf[i]);
        });
        return Tensor.of(out, x.shape());
    }

    private static boolean rectifier(Act act) {
        return act == Act.RELU || act == Act.LEAKY_RELU;
    }

    /** The negative-side slope of a rectifier: 0 for ReLU. */
    private static float slope(Act act, float slope) {
        return act == Act.RELU ? 0f : slope;
    }

    /**
     * out[i] = x[i] > 0 ? v[i] : slope·v[i] over whole vectors of [from, to), the rectifiers' forward (v = x) and
     * backward (v = ∂L/∂y) in one branch-free loop (a data-dependent branch per element costs more than the
     * arithmetic). Slope 0 gives +0, as {@link Activations}. Returns where the scalar tail starts.
     */
    private static int rectifyVector(float[] x, float[] v, float slope, float[] out, int from, int to) {
        if (!CpuGemm.VECTOR) return from;
        VectorSpecies<Float> sp = CpuGemm.SPECIES;
        FloatVector zero = FloatVector.zero(sp);
        int i = from;
        for (int bound = from + sp.loopBound(to - from); i < bound; i += sp.length()) {
            FloatVector vi = FloatVector.fromArray(sp, v, i);
            VectorMask<Float> positive = FloatVector.fromArray(sp, x, i).compare(VectorOperators.GT, 0f);
            (slope == 0f ? zero : vi.mul(slope)).blend(vi, positive).intoArray(out, i);
        }
        return i;
    }

    @Override
    public Tensor resize(Tensor x, int outH, int outW, Interp mode, boolean antialias) {
        return Resampling.resize(x, outH, outW, mode, antialias);
    }

    @Override
    public Tensor resizeBackward(Tensor gradOut, int inH, int inW, Interp mode, boolean antialias) {
        return Resampling.resizeBackward(gradOut, inH, inW, mode, antialias);
    }

    @Override
    public Tensor crop(Tensor x, int top, int left, int h, int w) {
        return Resampling.crop(x, top, left, h, w);
    }

    // ------------------------------------------------------------------ norms and softmax

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps, boolean silu) {
        int bsz = x.dimInt(0), ch = x.dimInt(1);
        if (ch % groups != 0) throw new IllegalArgumentException("groupNorm: " + ch + " channels not divisible by " + groups + " groups");
        int spatial = Math.toIntExact(x.numel() / ((long) bsz * ch));
        int cpg = ch / groups;
        float[] xf = x.floats();
        float[] g = gamma.floats(), bt = beta.floats();
        float[] out = new float[xf.length];
        Parallel.forRange(bsz * groups, 1, (from, to) -> {
            for (int bg = from; bg < to; bg++) {
                int base = bg * cpg * spatial;
                int len = cpg * spatial;
                double sum = 0;
                for (int i = 0; i < len; i++) sum += xf[base + i];
                double mean = sum / len;
                double sq = 0;
                for (int i = 0; i < len; i++) {
                    double d = xf[base + i] - mean;
                    sq += d * d;
                }
                float inv = (float) (1.0 / Math.sqrt(sq / len + eps));
                float meanF = (float) mean;
                int c0 = (bg % groups) * cpg;
                for (int c = 0; c < cpg; c++) {
                    float scale = g[c0 + c] * inv;
                    float shift = bt[c0 + c] - meanF * scale;
                    int o = base + c * spatial;
                    int i = 0;
                    if (CpuGemm.VECTOR) {
                        VectorSpecies<Float> sp = CpuGemm.SPECIES;
                        for (int bound = sp.loopBound(spatial); i < bound; i += sp.length()) {
                            FloatVector v = FloatVector.fromArray(sp, xf, o + i).mul(scale).add(shift);
                            (silu ? siluVector(v) : v).intoArray(out, o + i);
                        }
                    }
                    for (; i < spatial; i++) {
                        float v = xf[o + i] * scale + shift;
                        out[o + i] = silu ? v / (1f + (float) Math.exp(-v)) : v;
                    }
                }
            }
        });
        return Tensor.of(out, x.shape());
    }

    @Override
    public Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps) {
        int d = x.dimInt(-1);
        int rows = Math.toIntExact(x.numel() / d);
        float[] xf = x.floats();
        float[] g = gamma.floats(), bt = beta.floats();
        float[] out = new float[xf.length];
        Parallel.forRange(rows, 8, (from, to) -> {
            for (int r = from; r < to; r++) {
                int base = r * d;
                double sum = 0;
                for (int i = 0; i < d; i++) sum += xf[base + i];
                double mean = sum / d;
                double sq = 0;
                for (int i = 0; i < d; i++) {
                    double e = xf[base + i] - mean;
                    sq += e * e;
                }
                float inv = (float) (1.0 / Math.sqrt(sq / d + eps));
                float meanF = (float) mean;
                for (int i = 0; i < d; i++) out[base + i] = (xf[base + i] - meanF) * inv * g[i] + bt[i];
            }
        });
        return Tensor.of(out, x.shape());
    }

    @Override
    public Tensor softmax(Tensor x) {
        int d = x.dimInt(-1);
        int rows = Math.toIntExact(x.numel() / d);
        float[] out = x.toFloatArray();
        Parallel.forRange(rows, 8, (from, to) -> {
            for (int r = from; r < to; r++) softmaxRow(out, r * d, d);
        });
        return Tensor.of(out, x.shape());
    }

    /**
     * In-place softmax of v[o..o+n); entries of -inf get probability 0. Vectorised (with {@link #expVector}),
     * since attention over 4096 positions spends more time in exp than in anything else but the products.
     */
    static void softmaxRow(float[] v, int o, int n) {
        VectorSpecies<Float> sp = CpuGemm.SPECIES;
        int bound = CpuGemm.VECTOR ? sp.loopBound(n) : 0;
        float max = Float.NEGATIVE_INFINITY;
        int i = 0;
        if (bound > 0) {
            FloatVector m = FloatVector.broadcast(sp, Float.NEGATIVE_INFINITY);
            for (; i < bound; i += sp.length()) m = m.max(FloatVector.fromArray(sp, v, o + i));
            max = m.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) max = Math.max(max, v[o + i]);
        float sum = 0f;
        i = 0;
        if (bound > 0) {
            FloatVector acc = FloatVector.zero(sp);
            for (; i < bound; i += sp.length()) {
                FloatVector e = expVector(FloatVector.fromArray(sp, v, o + i).sub(max));
                e.intoArray(v, o + i);
                acc = acc.add(e);
            }
            sum = sumInOrder(acc);
        }
        for (; i < n; i++) {
            float e = (float) Math.exp(v[o + i] - max);
            v[o + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        i = 0;
        if (bound > 0) for (; i < bound; i += sp.length()) FloatVector.fromArray(sp, v, o + i).mul(inv).intoArray(v, o + i);
        for (; i < n; i++) v[o + i] *= inv;
    }

    /**
     * The lanes added first to last. {@code reduceLanes(ADD)} may add in any order, and does add in different
     * orders interpreted and compiled, which would make repeated runs differ in the last bit.
     */
    private static float sumInOrder(FloatVector v) {
        float s = 0f;
        for (float x : v.toArray()) s += x;
        return s;
    }

    private static final float LOG2E = 1.44269504f, LN2_HI = 0.693145752f, LN2_LO = 1.42860677e-6f;
    /** 1.5·2^23: adding and subtracting it rounds a float of magnitude below 2^22 to the nearest integer. */
    private static final float ROUND = 12582912f;

    /**
     * e^x per lane for x ≤ 88, within 2 ulp; exactly 0 below -87 (so -inf gives 0). Written out rather than
     * the Vector API's EXP because that one's results depend on whether the JIT has intrinsified it, which
     * made identical inputs give different bits from run to run.
     * Method: x = n·ln2 + r with |r| ≤ ln2/2, e^r by its degree-7 Taylor polynomial, 2^n from the exponent bits.
     */
    static FloatVector expVector(FloatVector x) {
        VectorSpecies<Float> sp = x.species();
        VectorMask<Float> under = x.compare(VectorOperators.LT, -87f);
        FloatVector xc = x.max(-87f).min(88f);
        FloatVector n = xc.mul(LOG2E).add(ROUND).sub(ROUND);
        FloatVector r = n.mul(-LN2_LO).add(n.mul(-LN2_HI).add(xc));
        FloatVector p = FloatVector.broadcast(sp, 1f / 5040);
        p = p.fma(r, FloatVector.broadcast(sp, 1f / 720));
        p = p.fma(r, FloatVector.broadcast(sp, 1f / 120));
        p = p.fma(r, FloatVector.broadcast(sp, 1f / 24));
        p = p.fma(r, FloatVector.broadcast(sp, 1f / 6));
        p = p.fma(r, FloatVector.broadcast(sp, 0.5f));
        p = p.fma(r, FloatVector.broadcast(sp, 1f));
        p = p.fma(r, FloatVector.broadcast(sp, 1f));
        IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return p.mul(bits.reinterpretAsFloats()).blend(0f, under);
    }

    /** x·σ(x) per lane, with {@link #expVector}. */
    static FloatVector siluVector(FloatVector x) {
        return x.div(expVector(x.neg()).add(1f));
    }

    /**
     * Exact GELU x·Φ(x) per lane, by the same erfc fit as {@link Activations#erf} evaluated in float:
     * with z = |x|/√2 and r = erfc(z), 1 + erf(x/√2) is 2 − r for x ≥ 0 and r below.
     */
    static FloatVector geluVector(FloatVector x) {
        FloatVector z = x.abs().mul(0.70710678f);
        FloatVector t = FloatVector.broadcast(x.species(), 1f).div(z.mul(0.5f).add(1f));
        FloatVector p = FloatVector.broadcast(x.species(), 0.17087277f);
        for (float coef : ERFC_FIT) p = p.fma(t, FloatVector.broadcast(x.species(), coef));
        FloatVector r = t.mul(expVector(t.mul(p).sub(z.mul(z)).sub(1.26551223f)));
        FloatVector onePlusErf = r.neg().add(2f).blend(r, x.compare(VectorOperators.LT, 0f));
        return x.mul(0.5f).mul(onePlusErf);
    }

    /** Numerical Recipes' erfc Chebyshev coefficients after the leading 0.17087277, highest order first. */
    private static final float[] ERFC_FIT = {-0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f,
            -0.18628806f, 0.09678418f, 0.37409196f, 1.00002368f};

    // ------------------------------------------------------------------ attention

    /** Queries per task: the score block (QB×Lk floats) stays in cache while amortising the K/V panels. */
    private static final int QB = 32;

    /**
     * Per (batch, head): S = scale·Q·Kᵀ for a block of QB queries, mask, row softmax, then O = P·V, both
     * products on the packed GEMM micro-kernel. K and V of each (batch, head) are packed once (Kᵀ as dk×Lk
     * panels, V as Lk×dv panels) and shared by all query blocks.
     */
    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, int heads, float scale, Tensor mask, boolean causal) {
        int bsz = q.dimInt(0), lq = q.dimInt(1), lk = k.dimInt(1);
        int dk = q.dimInt(2) / heads, dv = v.dimInt(2) / heads;
        if (q.dim(2) % heads != 0 || k.dim(2) != q.dim(2) || v.dim(2) % heads != 0 || v.dim(1) != lk
                || k.dim(0) != bsz || v.dim(0) != bsz) {
            throw new IllegalArgumentException("attention: q " + q.shapeString() + ", k " + k.shapeString()
                    + ", v " + v.shapeString() + " with " + heads + " heads");
        }
        if (mask != null && (mask.numel() != (long) lq * lk)) {
            throw new IllegalArgumentException("attention: mask " + mask.shapeString() + " is not (" + lq + "," + lk + ")");
        }
        float[] qf = q.floats(), kf = k.floats(), vf = v.floats();
        float[] mf = mask == null ? null : mask.floats();
        int qRow = heads * dk, vRow = heads * dv;
        float[][] kPacked = new float[bsz * heads][], vPacked = new float[bsz * heads][];
        Parallel.forRange(bsz * heads, 1, (from, to) -> {
            for (int bh = from; bh < to; bh++) {
                int b = bh / heads, h = bh % heads;
                kPacked[bh] = CpuGemm.packB(true, lk, dk, kf, b * lk * qRow + h * dk, qRow);
                vPacked[bh] = CpuGemm.packB(false, dv, lk, vf, b * lk * vRow + h * dv, vRow);
            }
        });
        float[] out = new float[bsz * lq * vRow];
        int qBlocks = (lq + QB - 1) / QB;
        Parallel.forRange(bsz * heads * qBlocks, 1, (from, to) -> {
            float[] s = new float[QB * lk];
            CpuGemm.Scratch scratch = new CpuGemm.Scratch();
            for (int task = from; task < to; task++) {
                int qb = task % qBlocks;
                int bh = task / qBlocks;
                int b = bh / heads, h = bh % heads;
                int i0 = qb * QB, rows = Math.min(lq, i0 + QB) - i0;
                // S (rows×Lk) = scale · Q[i0.., h] · Kᵀ
                CpuGemm.rows(false, rows, lk, dk, scale, qf, (b * lq + i0) * qRow + h * dk, qRow, kPacked[bh],
                        0f, s, 0, lk, 0, rows, scratch);
                for (int r = 0; r < rows; r++) {
                    int i = i0 + r, so = r * lk;
                    if (mf != null) for (int j = 0; j < lk; j++) s[so + j] += mf[i * lk + j];
                    if (causal) java.util.Arrays.fill(s, so + Math.min(lk, i + 1), so + lk, Float.NEGATIVE_INFINITY);
                    softmaxRow(s, so, lk);
                }
                // O[i0.., h] (rows×dv) = P · V
                CpuGemm.rows(false, rows, dv, lk, 1f, s, 0, lk, vPacked[bh],
                        0f, out, (b * lq + i0) * vRow + h * dv, vRow, 0, rows, scratch);
            }
        });
        return Tensor.of(out, bsz, lq, vRow);
    }

    // ------------------------------------------------------------------ element-wise

    @Override
    public Tensor unary(Unary op, Tensor x) {
        float[] xf = x.floats();
        float[] out = new float[xf.length];
        Parallel.forRange(xf.length, 1 << 14, (from, to) -> {
            for (int i = from; i < to; i++) out[i] = Activations.apply(op, xf[i]);
        });
        return Tensor.of(out, x.shape());
    }

    @Override
    public Tensor binary(Binary op, Tensor a, Tensor b) {
        float[] af = a.floats(), bf = b.floats();
        float[] out = new float[af.length];
        if (a.sameShape(b)) {
            Parallel.forRange(af.length, 1 << 14, (from, to) -> elementwise(op, af, bf, out, from, to));
            return Tensor.of(out, a.shape());
        }
        Broadcast map = Broadcast.of(a.shape(), b.shape());
        Parallel.forRange(af.length, 1 << 14, (from, to) -> {
            for (int i = from; i < to; i++) {
                float bv = bf[map.index(i)];
                out[i] = switch (op) {
                    case ADD -> af[i] + bv;
                    case SUB -> af[i] - bv;
                    case MUL -> af[i] * bv;
                };
            }
        });
        return Tensor.of(out, a.shape());
    }

    /** out = a op b over [from, to) of same-shaped operands: no index map, whole vectors then a scalar tail. */
    private static void elementwise(Binary op, float[] a, float[] b, float[] out, int from, int to) {
        int i = from;
        if (CpuGemm.VECTOR) {
            VectorSpecies<Float> sp = CpuGemm.SPECIES;
            VectorOperators.Binary vop = switch (op) {
                case ADD -> VectorOperators.ADD;
                case SUB -> VectorOperators.SUB;
                case MUL -> VectorOperators.MUL;
            };
            for (int bound = from + sp.loopBound(to - from); i < bound; i += sp.length()) {
                FloatVector.fromArray(sp, a, i).lanewise(vop, FloatVector.fromArray(sp, b, i)).intoArray(out, i);
            }
        }
        for (; i < to; i++) {
            out[i] = switch (op) {
                case ADD -> a[i] + b[i];
                case SUB -> a[i] - b[i];
                case MUL -> a[i] * b[i];
            };
        }
    }

    @Override
    public Tensor axpby(float alpha, Tensor x, float beta, Tensor y) {
        if (!x.sameShape(y)) throw new IllegalArgumentException("axpby: " + x.shapeString() + " vs " + y.shapeString());
        float[] xf = x.floats(), yf = y.floats();
        float[] out = new float[xf.length];
        // two plain loops rather than a test per element, so the compiler vectorises each
        Parallel.forRange(xf.length, 1 << 14, beta == 0f
                ? (from, to) -> {
                    for (int i = from; i < to; i++) out[i] = alpha * xf[i];
                }
                : (from, to) -> {
                    for (int i = from; i < to; i++) out[i] = alpha * xf[i] + beta * yf[i];
                });
        return Tensor.of(out, x.shape());
    }

    @Override
    public Tensor geglu(Tensor x) {
        int two = x.dimInt(-1);
        if (two % 2 != 0) throw new IllegalArgumentException("geglu: last dimension of " + x.shapeString() + " is odd");
        int f = two / 2;
        int rows = Math.toIntExact(x.numel() / two);
        float[] xf = x.floats();
        float[] out = new float[rows * f];
        Parallel.forRange(rows, 4, (from, to) -> {
            for (int r = from; r < to; r++) {
                int i = 0;
                if (CpuGemm.VECTOR) {
                    VectorSpecies<Float> sp = CpuGemm.SPECIES;
                    for (int bound = sp.loopBound(f); i < bound; i += sp.length()) {
                        FloatVector gate = FloatVector.fromArray(sp, xf, r * two + f + i);
                        FloatVector.fromArray(sp, xf, r * two + i).mul(geluVector(gate)).intoArray(out, r * f + i);
                    }
                }
                for (; i < f; i++) out[r * f + i] = xf[r * two + i] * Activations.gelu(xf[r * two + f + i]);
            }
        });
        long[] s = x.shape();
        s[s.length - 1] = f;
        return Tensor.of(out, s);
    }

    // ------------------------------------------------------------------ layout

    @Override
    public Tensor upsampleNearest2x(Tensor x) {
        int planes = Math.toIntExact(x.dim(0) * x.dim(1));
        int hh = x.dimInt(2), ww = x.dimInt(3);
        float[] xf = x.floats();
        float[] out = new float[planes * 4 * hh * ww];
        Parallel.forRange(planes, 4, (from, to) -> {
            for (int p = from; p < to; p++) {
                for (int y = 0; y < 2 * hh; y++) {
                    int src = p * hh * ww + (y / 2) * ww;
                    int dst = p * 4 * hh * ww + y * 2 * ww;
                    for (int xx = 0; xx < 2 * ww; xx++) out[dst + xx] = xf[src + xx / 2];
                }
            }
        });
        return Tensor.of(out, x.dim(0), x.dim(1), 2L * hh, 2L * ww);
    }

    @Override
    public Tensor upsampleNearest(Tensor x, int outH, int outW) {
        if (x.rank() != 4 || outH < 1 || outW < 1) {
            throw new IllegalArgumentException("upsampleNearest expects (B,C,H,W) and a positive size, got " + x.shapeString()
                    + " to " + outH + "x" + outW);
        }
        int planes = Math.toIntExact(x.dim(0) * x.dim(1));
        int hh = x.dimInt(2), ww = x.dimInt(3);
        int[] rows = nearestSources(hh, outH), cols = nearestSources(ww, outW);
        float[] xf = x.floats();
        float[] out = new float[Math.multiplyExact(planes, outH * outW)];
        Parallel.forRange(planes, 4, (from, to) -> {
            for (int p = from; p < to; p++) {
                for (int y = 0; y < outH; y++) {
                    int src = p * hh * ww + rows[y] * ww;
                    int dst = (p * outH + y) * outW;
                    for (int xx = 0; xx < outW; xx++) out[dst + xx] = xf[src + cols[xx]];
                }
            }
        });
        return Tensor.of(out, x.dim(0), x.dim(1), outH, outW);
    }

    /** PyTorch's nearest source index for each of {@code out} positions over {@code in}: min(⌊o·(in/out)⌋, in−1) in float32. */
    static int[] nearestSources(int in, int out) {
        float scale = (float) in / out;
        int[] src = new int[out];
        for (int o = 0; o < out; o++) src[o] = Math.min((int) Math.floor(o * scale), in - 1);
        return src;
    }

    @Override
    public Tensor concatChannels(Tensor a, Tensor b) {
        long[] sa = a.shape(), sb = b.shape();
        if (sa.length != sb.length || sa[0] != sb[0]
                || !Arrays.equals(Arrays.copyOfRange(sa, 2, sa.length), Arrays.copyOfRange(sb, 2, sb.length))) {
            throw new IllegalArgumentException("concat: " + a.shapeString() + " and " + b.shapeString());
        }
        int bsz = (int) sa[0];
        int blockA = Math.toIntExact(a.numel() / bsz), blockB = Math.toIntExact(b.numel() / bsz);
        float[] af = a.floats(), bf = b.floats();
        float[] out = new float[af.length + bf.length];
        for (int i = 0; i < bsz; i++) {
            System.arraycopy(af, i * blockA, out, i * (blockA + blockB), blockA);
            System.arraycopy(bf, i * blockB, out, i * (blockA + blockB) + blockA, blockB);
        }
        long[] s = sa.clone();
        s[1] = sa[1] + sb[1];
        return Tensor.of(out, s);
    }

    @Override
    public Tensor transposeLast2(Tensor x) {
        int m = x.dimInt(-2), n = x.dimInt(-1);
        int batch = Math.toIntExact(x.numel() / ((long) m * n));
        float[] xf = x.floats();
        float[] out = new float[xf.length];
        final int tb = 32;
        int tilesM = (m + tb - 1) / tb;
        Parallel.forRange(batch * tilesM, 1, (from, to) -> {
            for (int t = from; t < to; t++) {
                int b = t / tilesM, i0 = (t % tilesM) * tb;
                int base = b * m * n;
                for (int j0 = 0; j0 < n; j0 += tb) {
                    for (int i = i0; i < Math.min(m, i0 + tb); i++) {
                        for (int j = j0; j < Math.min(n, j0 + tb); j++) out[base + j * m + i] = xf[base + i * n + j];
                    }
                }
            }
        });
        long[] s = x.shape();
        s[s.length - 2] = n;
        s[s.length - 1] = m;
        return Tensor.of(out, s);
    }

    @Override
    public Tensor embedding(Tensor table, Tensor ids) {
        if (ids.dtype() != DType.I32 && ids.dtype() != DType.I64) {
            throw new IllegalArgumentException("embedding ids must be i32 or i64, got " + ids.shapeString());
        }
        int d = table.dimInt(1);
        long vocab = table.dim(0);
        int n = Math.toIntExact(ids.numel());
        float[] out = new float[n * d];
        for (int i = 0; i < n; i++) {
            long id = ids.getLong(i);
            if (id < 0 || id >= vocab) throw new IndexOutOfBoundsException("token id " + id + " outside vocabulary of " + vocab);
            for (int j = 0; j < d; j++) out[i * d + j] = table.getFloat(id * d + j);
        }
        return Tensor.of(out, n, d);
    }
}
