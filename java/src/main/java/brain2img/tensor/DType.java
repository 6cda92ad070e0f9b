package brain2img.tensor;

import java.util.Locale;

/** Element types a {@link Tensor} can hold, with their size in bytes and their names in safetensors and NumPy. */
public enum DType {
    F32(4, "F32", "<f4"),
    F64(8, "F64", "<f8"),
    F16(2, "F16", "<f2"),
    BF16(2, "BF16", null),
    I32(4, "I32", "<i4"),
    I64(8, "I64", "<i8"),
    U8(1, "U8", "|u1");

    public final int bytes;
    /** Name used in safetensors headers. */
    public final String safetensorsName;
    /** NumPy descr string, or null where NumPy has no such type. */
    public final String numpyDescr;

    DType(int bytes, String safetensorsName, String numpyDescr) {
        this.bytes = bytes;
        this.safetensorsName = safetensorsName;
        this.numpyDescr = numpyDescr;
    }

    public boolean isFloating() {
        return this == F32 || this == F64 || this == F16 || this == BF16;
    }

    /** Parses a safetensors dtype name; returns null for names this engine does not support. */
    public static DType fromSafetensors(String name) {
        for (DType d : values()) if (d.safetensorsName.equals(name)) return d;
        return null;
    }

    public String lower() {
        return name().toLowerCase(Locale.ROOT);
    }
}
