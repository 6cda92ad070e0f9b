package brain2img.backend;

import brain2img.util.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision GEMM on float arrays for the CPU backend: C = alpha·op(A)·op(B) + beta·C, row-major.
 *
 * <p>B is packed once into column panels of {@link #NR} floats (k×NR each, zero-padded at the edge) so the
 * micro-kernel streams it contiguously; A is packed in blocks of {@link #MC} rows × {@link #KC} depth. The
 * micro-kernel keeps an MR×NR tile of C in registers across one depth slice. A scalar kernel with the same
 * packing is the fallback when the Vector API is disabled ({@code -Dbrain2img.vector=false}).
 */
final class CpuGemm {
    /** The machine's preferred width, capped by {@code -Dbrain2img.vector.bits=128|256|512} (tests run other widths). */
    static final VectorSpecies<Float> SPECIES = species(Integer.getInteger("brain2img.vector.bits", 0));
    static final boolean VECTOR = !"false".equals(System.getProperty("brain2img.vector"));
    static final int MR = 4;
    static final int NR = 2 * SPECIES.length();

    private CpuGemm() {}

    /** The preferred float species, or the one of {@code capBits} when that is narrower (0: no cap). */
    static VectorSpecies<Float> species(int capBits) {
        VectorSpecies<Float> preferred = FloatVector.SPECIES_PREFERRED;
        if (capBits == 0 || capBits >= preferred.vectorBitSize()) return preferred;
        return switch (capBits) {
            case 64 -> FloatVector.SPECIES_64;
            case 128 -> FloatVector.SPECIES_128;
            case 256 -> FloatVector.SPECIES_256;
            default -> throw new IllegalArgumentException("brain2img.vector.bits must be 64, 128, 256 or 512, got " + capBits);
        };
    }

    /** Packs op(B) (k×n) into ceil(n/NR) panels, each k rows of NR floats. */
    static float[] packB(boolean transB, int n, int k, float[] b, int bOff, int ldb) {
        int panels = panels(n);
        float[] packed = new float[panels * k * NR];
        // each panel is k·NR floats; split so that a task copies at least ~64K of them
        Parallel.forRange(panels, Math.max(1, (1 << 16) / Math.max(1, k * NR)),
                (from, to) -> packPanels(transB, n, k, b, bOff, ldb, packed, from, to));
        return packed;
    }

    private static void packPanels(boolean transB, int n, int k, float[] b, int bOff, int ldb, float[] packed,
                                   int from, int to) {
        for (int pj = from; pj < to; pj++) {
            int j0 = pj * NR;
            int w = Math.min(NR, n - j0);
            int base = pj * k * NR;
            for (int p = 0; p < k; p++) {
                int dst = base + p * NR;
                if (!transB) {
                    System.arraycopy(b, bOff + p * ldb + j0, packed, dst, w);
                } else {
                    for (int j = 0; j < w; j++) packed[dst + j] = b[bOff + (j0 + j) * ldb + p];
                }
            }
        }
    }

    /** Rows of op(A) and depth packed per block: the A block (MC×KC) stays in L2, a B sub-panel (KC×NR) in L1. */
    static final int MC = 64, KC = 256;

    /** Per-task scratch: one packed A block and one C tile. */
    static final class Scratch {
        final float[] aPack = new float[MC * KC];
        final float[] tile = new float[MR * NR];
    }

    /**
     * Packs rows [i0, i0+MR) ∩ [0, m), depth [p0, p0+kc) of op(A) into a kc×MR block at dst[dOff..]
     * (rows past m are zero).
     */
    static void packA(boolean transA, int m, int p0, int kc, float[] a, int aOff, int lda, int i0, float[] dst, int dOff) {
        int h = Math.min(MR, m - i0);
        if (h < MR) java.util.Arrays.fill(dst, dOff, dOff + kc * MR, 0f);
        for (int r = 0; r < h; r++) {
            int i = i0 + r;
            if (!transA) {
                int src = aOff + i * lda + p0;
                for (int p = 0; p < kc; p++) dst[dOff + p * MR + r] = a[src + p];
            } else {
                for (int p = 0; p < kc; p++) dst[dOff + p * MR + r] = a[aOff + (p0 + p) * lda + i];
            }
        }
    }

    /**
     * Computes rows [i0, i1) of C from packed B, blocked GotoBLAS-style: for each MC-row block and KC-deep
     * slice, the A block is packed once and swept against every B panel; within a panel the KC×NR sub-panel
     * is reused by all MR-row blocks. Later depth slices accumulate onto the first (which applies beta).
     */
    static void rows(boolean transA, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                     float[] bPacked, float beta, float[] c, int cOff, int ldc, int i0, int i1, Scratch s) {
        block(transA, n, k, alpha, a, aOff, lda, bPacked, beta, c, cOff, ldc, i0, i1, 0, panels(n), s);
    }

    static int panels(int n) {
        return (n + NR - 1) / NR;
    }

    /** Rows [i0, i1) × panels [pj0, pj1) of C (see {@link #rows}); rows past i1 are never touched. */
    static void block(boolean transA, int n, int k, float alpha, float[] a, int aOff, int lda,
                      float[] bPacked, float beta, float[] c, int cOff, int ldc, int i0, int i1, int pj0, int pj1,
                      Scratch s) {
        for (int ic = i0; ic < i1; ic += MC) {
            int icEnd = Math.min(i1, ic + MC);
            int slices = Math.max(1, (k + KC - 1) / KC);    // one (empty) slice when k is 0: C = beta·C
            for (int sl = 0; sl < slices; sl++) {
                int pc = sl * KC, kc = Math.min(KC, k - pc);
                float betaNow = pc == 0 ? beta : 1f;
                for (int ib = ic; ib < icEnd; ib += MR) {
                    packA(transA, icEnd, pc, kc, a, aOff, lda, ib, s.aPack, (ib - ic) * kc);
                }
                for (int pj = pj0; pj < pj1; pj++) {
                    int j0 = pj * NR;
                    int w = Math.min(NR, n - j0);
                    int bBase = pj * k * NR + pc * NR;
                    for (int ib = ic; ib < icEnd; ib += MR) {
                        int aBase = (ib - ic) * kc;
                        if (VECTOR) microVector(kc, s.aPack, aBase, bPacked, bBase, s.tile);
                        else microScalar(kc, s.aPack, aBase, bPacked, bBase, s.tile);
                        store(s.tile, Math.min(MR, icEnd - ib), w, alpha, betaNow, c, cOff + ib * ldc + j0, ldc);
                    }
                }
            }
        }
    }

    /** C[h×w block at co] = alpha·tile + beta·C (C not read when beta is 0). */
    private static void store(float[] tile, int h, int w, float alpha, float beta, float[] c, int co, int ldc) {
        int v = SPECIES.length();
        for (int r = 0; r < h; r++) {
            int crow = co + r * ldc, trow = r * NR;
            int j = 0;
            if (VECTOR) {
                for (; j + v <= w; j += v) {
                    FloatVector t = FloatVector.fromArray(SPECIES, tile, trow + j).mul(alpha);
                    if (beta != 0f) t = FloatVector.fromArray(SPECIES, c, crow + j).fma(FloatVector.broadcast(SPECIES, beta), t);
                    t.intoArray(c, crow + j);
                }
            }
            for (; j < w; j++) {
                c[crow + j] = beta == 0f ? alpha * tile[trow + j] : alpha * tile[trow + j] + beta * c[crow + j];
            }
        }
    }

    private static void microVector(int k, float[] aPack, int aBase, float[] b, int bBase, float[] tile) {
        int v = SPECIES.length();
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = FloatVector.zero(SPECIES);
        FloatVector c10 = FloatVector.zero(SPECIES), c11 = FloatVector.zero(SPECIES);
        FloatVector c20 = FloatVector.zero(SPECIES), c21 = FloatVector.zero(SPECIES);
        FloatVector c30 = FloatVector.zero(SPECIES), c31 = FloatVector.zero(SPECIES);
        for (int p = 0; p < k; p++) {
            int bo = bBase + p * NR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, bo);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, bo + v);
            int ao = aBase + p * MR;
            FloatVector a0 = FloatVector.broadcast(SPECIES, aPack[ao]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(SPECIES, aPack[ao + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(SPECIES, aPack[ao + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(SPECIES, aPack[ao + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
        }
        c00.intoArray(tile, 0);
        c01.intoArray(tile, v);
        c10.intoArray(tile, NR);
        c11.intoArray(tile, NR + v);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + v);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + v);
    }

    private static void microScalar(int k, float[] aPack, int aBase, float[] b, int bBase, float[] tile) {
        java.util.Arrays.fill(tile, 0f);
        for (int p = 0; p < k; p++) {
            int bo = bBase + p * NR;
            for (int r = 0; r < MR; r++) {
                float av = aPack[aBase + p * MR + r];
                int t = r * NR;
                for (int j = 0; j < NR; j++) tile[t + j] = Math.fma(av, b[bo + j], tile[t + j]);
            }
        }
    }

    /** Up to this many rows of C, {@link #smallM} beats packing B (which would cost as much as the product). */
    static final int SMALL_M = 4;

    /**
     * C = alpha·op(A)·op(B) + beta·C for m ≤ {@link #SMALL_M} rows: with Bᵀ stored (a Linear's weight) each
     * C entry is a dot product of two contiguous rows; otherwise rows of B are added into C's rows. Parallel
     * over column chunks of C; each reads its part of B once.
     */
    static void smallM(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                       float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        float[] ar = new float[m * k];    // op(A) rows, contiguous
        for (int i = 0; i < m; i++) for (int p = 0; p < k; p++) ar[i * k + p] = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
        Parallel.forRange(n, 64, (j0, j1) -> {
            float[] acc = new float[m * (j1 - j0)];
            if (transB) {
                for (int j = j0; j < j1; j++) {
                    for (int i = 0; i < m; i++) acc[i * (j1 - j0) + j - j0] = dot(ar, i * k, b, bOff + j * ldb, k);
                }
            } else {
                // KC-deep slices, each summed from zero and then added to C, as the packed path does: with alpha 1
                // and beta 0 or 1 every entry of C gets the same bits whatever m is (a ridge prediction of one
                // row equals that row predicted in a batch)
                int w = j1 - j0;
                for (int pc = 0; pc < Math.max(k, 1); pc += KC) {   // one (empty) slice when k is 0: C = beta·C
                    java.util.Arrays.fill(acc, 0f);
                    for (int p = pc, pEnd = Math.min(k, pc + KC); p < pEnd; p++) {
                        int row = bOff + p * ldb;
                        for (int i = 0; i < m; i++) axpy(ar[i * k + p], b, row + j0, acc, i * w, w);
                    }
                    float betaNow = pc == 0 ? beta : 1f;
                    for (int i = 0; i < m; i++) {
                        for (int j = j0; j < j1; j++) {
                            float v = alpha * acc[i * w + j - j0];
                            int ci = cOff + i * ldc + j;
                            c[ci] = betaNow == 0f ? v : Math.fma(c[ci], betaNow, v);
                        }
                    }
                }
                return;
            }
            for (int i = 0; i < m; i++) {
                for (int j = j0; j < j1; j++) {
                    float v = alpha * acc[i * (j1 - j0) + j - j0];
                    int ci = cOff + i * ldc + j;
                    c[ci] = beta == 0f ? v : v + beta * c[ci];
                }
            }
        });
    }

    private static float dot(float[] x, int xo, float[] y, int yo, int k) {
        int p = 0;
        float s = 0f;
        if (VECTOR) {
            FloatVector acc = FloatVector.zero(SPECIES);
            for (int bound = SPECIES.loopBound(k); p < bound; p += SPECIES.length()) {
                acc = FloatVector.fromArray(SPECIES, x, xo + p).fma(FloatVector.fromArray(SPECIES, y, yo + p), acc);
            }
            for (float v : acc.toArray()) s += v;    // lanes in order: the same bits every run
        }
        for (; p < k; p++) s = Math.fma(x[xo + p], y[yo + p], s);
        return s;
    }

    /** y[yo..yo+len) += s·x[xo..xo+len). */
    private static void axpy(float s, float[] x, int xo, float[] y, int yo, int len) {
        if (s == 0f) return;
        int j = 0;
        if (VECTOR) {
            FloatVector sv = FloatVector.broadcast(SPECIES, s);
            for (int bound = SPECIES.loopBound(len); j < bound; j += SPECIES.length()) {
                FloatVector.fromArray(SPECIES, x, xo + j).fma(sv, FloatVector.fromArray(SPECIES, y, yo + j)).intoArray(y, yo + j);
            }
        }
        for (; j < len; j++) y[yo + j] = Math.fma(s, x[xo + j], y[yo + j]);
    }
}
