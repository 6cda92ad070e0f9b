package brain2img.ridge;

import java.util.HashMap;
import java.util.Map;

/**
 * Cross-validation folds exactly as {@code numpy.array_split}: K contiguous parts whose sizes differ by at
 * most one, the larger parts first. With groups the parts are cut over the distinct group ids in order of
 * first appearance, and every sample goes to its group's fold.
 */
public final class Folds {
    private Folds() {}

    /** Size of part i when splitting n items into k parts (numpy.array_split). */
    static int partSize(int n, int k, int i) {
        return n / k + (i < n % k ? 1 : 0);
    }

    /** The fold (0..k-1) of each of the n samples; groups null means one group per sample. */
    public static int[] assign(int n, int k, int[] groups) {
        if (k < 2) throw new IllegalArgumentException("folds: need at least 2 folds, got " + k);
        int[] unit = new int[n]; // index of each sample's group in order of first appearance
        int units;
        if (groups == null) {
            for (int i = 0; i < n; i++) unit[i] = i;
            units = n;
            if (k > n) throw new IllegalArgumentException("folds: " + k + " folds need at least " + k + " samples, got " + n);
        } else {
            if (groups.length != n) {
                throw new IllegalArgumentException("groups: " + groups.length + " group ids for " + n + " samples");
            }
            Map<Integer, Integer> first = new HashMap<>();
            for (int i = 0; i < n; i++) unit[i] = first.computeIfAbsent(groups[i], g -> first.size());
            units = first.size();
            if (k > units) throw new IllegalArgumentException("groups: " + units + " distinct groups cannot make " + k + " folds");
        }
        int[] foldOfUnit = new int[units];
        for (int f = 0, u = 0; f < k; f++) {
            int size = partSize(units, k, f);
            for (int j = 0; j < size; j++) foldOfUnit[u++] = f;
        }
        int[] fold = new int[n];
        for (int i = 0; i < n; i++) fold[i] = foldOfUnit[unit[i]];
        return fold;
    }

    /** Sample indices (ascending) with fold == f (test) or != f (train). */
    static int[] rows(int[] fold, int f, boolean test) {
        int count = 0;
        for (int v : fold) if ((v == f) == test) count++;
        int[] out = new int[count];
        for (int i = 0, j = 0; i < fold.length; i++) if ((fold[i] == f) == test) out[j++] = i;
        return out;
    }
}
