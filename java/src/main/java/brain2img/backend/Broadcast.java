package brain2img.backend;

import java.util.Arrays;

/**
 * Maps a flat index of an output of shape {@code a} to the flat index of a broadcast operand of shape
 * {@code b} (NumPy rules, b right-aligned). Common patterns get closed forms; the rest walk strides.
 */
abstract class Broadcast {
    abstract int index(int i);

    static Broadcast of(long[] a, long[] b) {
        if (b.length > a.length) throw new IllegalArgumentException("cannot broadcast " + Arrays.toString(b) + " to " + Arrays.toString(a));
        long[] bp = new long[a.length];
        Arrays.fill(bp, 1);
        System.arraycopy(b, 0, bp, a.length - b.length, b.length);
        for (int d = 0; d < a.length; d++) {
            if (bp[d] != a[d] && bp[d] != 1) {
                throw new IllegalArgumentException("cannot broadcast " + Arrays.toString(b) + " to " + Arrays.toString(a));
            }
        }
        long an = 1, bn = 1;
        for (long s : a) an *= s;
        for (long s : bp) bn *= s;
        if (an == bn) return new Broadcast() { int index(int i) { return i; } };
        if (bn == 1) return new Broadcast() { int index(int i) { return 0; } };
        // b = (1,...,1, a[k:]) : repeats with period bn
        int k = 0;
        while (k < a.length && bp[k] == 1) k++;
        boolean suffix = true;
        for (int d = k; d < a.length; d++) suffix &= bp[d] == a[d];
        if (suffix) {
            int period = (int) bn;
            return new Broadcast() { int index(int i) { return i % period; } };
        }
        // b = (a[:k], 1,...,1) : each element covers a contiguous block
        int e = a.length;
        while (e > 0 && bp[e - 1] == 1) e--;
        boolean prefix = true;
        for (int d = 0; d < e; d++) prefix &= bp[d] == a[d];
        if (prefix) {
            int block = (int) (an / bn);
            return new Broadcast() { int index(int i) { return i / block; } };
        }
        long[] bStride = new long[a.length];
        long s = 1;
        for (int d = a.length - 1; d >= 0; d--) {
            bStride[d] = bp[d] == 1 ? 0 : s;
            s *= bp[d];
        }
        return new Broadcast() {
            int index(int i) {
                long rem = i, idx = 0;
                for (int d = a.length - 1; d >= 0; d--) {
                    idx += (rem % a[d]) * bStride[d];
                    rem /= a[d];
                }
                return (int) idx;
            }
        };
    }
}
