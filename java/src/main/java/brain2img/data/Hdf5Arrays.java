package brain2img.data;

/** Flattens the nested Java arrays jhdf returns (byte/short/int/long at the leaves) in C order. */
final class Hdf5Arrays {
    private Hdf5Arrays() {}

    static int[] ints(Object nested) {
        int n = count(nested);
        int[] out = new int[n];
        fill(nested, out, 0);
        return out;
    }

    private static int count(Object a) {
        if (a instanceof byte[] b) return b.length;
        if (a instanceof short[] s) return s.length;
        if (a instanceof int[] i) return i.length;
        if (a instanceof long[] l) return l.length;
        if (a instanceof Object[] o) return o.length == 0 ? 0 : o.length * count(o[0]);
        throw new IllegalArgumentException("expected integer HDF5 data, got " + a.getClass().getSimpleName());
    }

    private static int fill(Object a, int[] out, int pos) {
        switch (a) {
            case byte[] b -> { for (byte v : b) out[pos++] = v; } // signed: callers mask with 0xff for uint8 data
            case short[] s -> { for (short v : s) out[pos++] = v; }
            case int[] i -> { System.arraycopy(i, 0, out, pos, i.length); pos += i.length; }
            case long[] l -> { for (long v : l) out[pos++] = Math.toIntExact(v); }
            case Object[] o -> { for (Object x : o) pos = fill(x, out, pos); }
            default -> throw new IllegalArgumentException("expected integer HDF5 data, got " + a.getClass().getSimpleName());
        }
        return pos;
    }
}
