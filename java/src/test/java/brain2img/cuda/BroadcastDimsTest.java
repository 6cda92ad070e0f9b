package brain2img.cuda;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The host side of the CUDA binary kernel's broadcasting: the merged (shape, b-stride) description, walked exactly
 * as b2i_binary_f32 walks it, must give NumPy's index of b for every output element.
 */
class BroadcastDimsTest {

    /** b2i_binary_f32's index computation, transcribed. */
    static long kernelIndex(long i, long[] shape, long[] bstride) {
        long rem = i, bi = 0;
        for (int d = shape.length - 1; d >= 0; d--) {
            long q = rem / shape[d];
            bi += (rem - q * shape[d]) * bstride[d];
            rem = q;
        }
        return bi;
    }

    /** NumPy's rule, directly: unravel i in a's shape, clamp broadcast coordinates to 0, ravel in b's shape. */
    static long numpyIndex(long i, long[] a, long[] b) {
        long[] coord = new long[a.length];
        long rem = i;
        for (int d = a.length - 1; d >= 0; d--) {
            coord[d] = rem % a[d];
            rem /= a[d];
        }
        long idx = 0;
        int off = a.length - b.length;
        for (int d = 0; d < b.length; d++) idx = idx * b[d] + (b[d] == 1 ? 0 : coord[off + d]);
        return idx;
    }

    static void check(long[] a, long[] b) {
        long[][] sd = CudaBackend.broadcastDims(a, b);
        long n = Arrays.stream(a).reduce(1, (x, y) -> x * y);
        for (long i = 0; i < n; i++) {
            assertEquals(numpyIndex(i, a, b), kernelIndex(i, sd[0], sd[1]),
                    "element " + i + " of " + Arrays.toString(a) + " with b " + Arrays.toString(b));
        }
    }

    @Test
    void modelPatterns() {
        check(new long[]{2, 77, 768}, new long[]{768});            // linear bias
        check(new long[]{2, 320, 9, 7}, new long[]{320, 1, 1});    // conv bias
        check(new long[]{2, 320, 9, 7}, new long[]{2, 320, 1, 1}); // time embedding per (batch, channel)
        check(new long[]{3, 5}, new long[]{3, 5});                 // same shape
        check(new long[]{3, 5}, new long[]{1});                    // scalar
        check(new long[]{1, 77, 32}, new long[]{77, 32});          // positional embedding
        check(new long[]{4, 1, 6}, new long[]{4, 1, 1});
    }

    @Test
    void mergesToFewDimensions() {
        long[][] bias = CudaBackend.broadcastDims(new long[]{2, 77, 768}, new long[]{768});
        assertArrayEquals(new long[]{154, 768}, bias[0]);
        assertArrayEquals(new long[]{0, 1}, bias[1]);
        long[][] same = CudaBackend.broadcastDims(new long[]{2, 3, 4}, new long[]{2, 3, 4});
        assertArrayEquals(new long[]{24}, same[0]);
        assertArrayEquals(new long[]{1}, same[1]);
        long[][] conv = CudaBackend.broadcastDims(new long[]{2, 320, 9, 7}, new long[]{320, 1, 1});
        assertArrayEquals(new long[]{2, 320, 63}, conv[0]);
        assertArrayEquals(new long[]{0, 1, 0}, conv[1]);
    }

    @Test
    void randomShapes() {
        Random r = new Random(7);
        for (int t = 0; t < 300; t++) {
            int rank = 1 + r.nextInt(5);
            long[] a = new long[rank];
            for (int d = 0; d < rank; d++) a[d] = 1 + r.nextInt(4);
            int brank = r.nextInt(rank + 1);
            long[] b = new long[brank];
            for (int d = 0; d < brank; d++) b[d] = r.nextBoolean() ? 1 : a[rank - brank + d];
            check(a, b);
        }
    }

    @Test
    void structLayoutMatchesTheKernel() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = CudaBackend.broadcastStruct(new long[]{2, 320, 9, 7}, new long[]{320, 1, 1}, arena);
            assertEquals(104, s.byteSize()); // sizeof(B2iBroadcast): 6 + 6 long longs, an int, padded to 8
            assertEquals(2, s.getAtIndex(JAVA_LONG, 0));
            assertEquals(320, s.getAtIndex(JAVA_LONG, 1));
            assertEquals(63, s.getAtIndex(JAVA_LONG, 2));
            assertEquals(0, s.getAtIndex(JAVA_LONG, 6));
            assertEquals(1, s.getAtIndex(JAVA_LONG, 7));
            assertEquals(3, s.get(JAVA_INT, 96));
        }
    }

    @Test
    void rejectsIncompatibleShapes() {
        var size = assertThrows(IllegalArgumentException.class, () -> CudaBackend.broadcastDims(new long[]{2, 3}, new long[]{4}));
        assertEquals("cannot broadcast [4] to [2, 3]", size.getMessage());
        var rank = assertThrows(IllegalArgumentException.class, () -> CudaBackend.broadcastDims(new long[]{3}, new long[]{2, 3}));
        assertEquals("cannot broadcast [2, 3] to [3]", rank.getMessage());
    }

    @Test
    void attentionVariantCoversEveryHeadDim() {
        for (int d = 1; d <= 512; d++) {
            int v = CudaBackend.attentionVariant(d);
            int bound = Kernel.ATTENTION[v].attentionBound();
            assertEquals(true, bound >= d && (v == 0 || Kernel.ATTENTION[v - 1].attentionBound() < d), "head dim " + d);
            int t = Kernel.ATTENTION_THREADS_PER_QUERY[v];
            assertEquals(0, 32 % t, "threads per query must divide a warp");
            assertEquals(0, bound % t, "bound divisible into dims per thread");
        }
        assertEquals(Kernel.ATTENTION_D40, Kernel.ATTENTION[CudaBackend.attentionVariant(40)]);
        assertEquals(Kernel.ATTENTION_D80, Kernel.ATTENTION[CudaBackend.attentionVariant(80)]);
        assertEquals(Kernel.ATTENTION_D160, Kernel.ATTENTION[CudaBackend.attentionVariant(160)]);
        var wide = assertThrows(IllegalArgumentException.class, () -> CudaBackend.attentionVariant(513));
        assertEquals("attention head dimension 513 exceeds the CUDA kernels' maximum of 512", wide.getMessage());
    }
}
