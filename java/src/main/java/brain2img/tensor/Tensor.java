package brain2img.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A dense, row-major (C order) n-dimensional array in a {@link MemorySegment}.
 *
 * <p>The segment may live on the Java heap (a {@code float[]} for f32 results of CPU ops, freed by the GC),
 * in native memory owned by an {@link Arena} (freed by {@link #close()}), or in a memory-mapped weight file
 * (owned by the file's arena, never copied). Views made by {@link #reshape} and {@link #slice} share storage
 * and never own it. All stored values are little-endian.
 *
 * <p>A <em>device tensor</em> ({@link #onDevice}) lives in accelerator memory instead ({@link DeviceMemory}):
 * shape, dtype, reshape, slice, get and close work as for host tensors, but element access and {@link #segment()}
 * throw {@link IllegalStateException}; bring it to the host with the owning backend's {@code download}.
 */
public final class Tensor implements AutoCloseable {
    public static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment segment; // null for device tensors
    private final DeviceMemory device;   // null for host tensors
    private final boolean ownsDevice;    // this device tensor releases its memory on close
    private final DType dtype;
    private final long[] shape;
    private final Arena owner; // non-null only when this tensor owns its storage

    private Tensor(MemorySegment segment, DType dtype, long[] shape, Arena owner) {
        long n = numel(shape);
        if (segment.byteSize() < n * dtype.bytes) {
            throw new IllegalArgumentException("storage of " + segment.byteSize() + " bytes is too small for "
                    + dtype.lower() + Arrays.toString(shape));
        }
        this.segment = segment;
        this.device = null;
        this.ownsDevice = false;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.owner = owner;
    }

    private Tensor(DeviceMemory device, boolean owns, DType dtype, long[] shape) {
        long n = numel(shape);
        if (device.byteSize() < n * dtype.bytes) {
            throw new IllegalArgumentException("device storage of " + device.byteSize() + " bytes is too small for "
                    + dtype.lower() + Arrays.toString(shape));
        }
        this.segment = null;
        this.device = device;
        this.ownsDevice = owns;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.owner = null;
    }

    /**
     * A tensor in accelerator memory; {@code owns} makes {@link #close()} release the memory (views never own).
     * Only device backends create these.
     */
    public static Tensor onDevice(DeviceMemory memory, boolean owns, DType dtype, long... shape) {
        return new Tensor(memory, owns, dtype, shape);
    }

    /** True for tensors in accelerator memory. */
    public boolean isOnDevice() { return device != null; }

    /** The accelerator memory of a device tensor; null for host tensors. */
    public DeviceMemory deviceMemory() { return device; }

    /** Host storage, or a clear error for a device tensor. */
    private MemorySegment host() {
        if (segment == null) {
            throw new IllegalStateException("tensor " + shapeString() + " is in " + device.device()
                    + " memory; download it through its backend first");
        }
        return segment;
    }

    // ---------------------------------------------------------------- creation

    /** A zero-filled f32 tensor on the Java heap (at most 2^31-1 elements). */
    public static Tensor zeros(long... shape) {
        return of(new float[Math.toIntExact(numel(shape))], shape);
    }

    /** Wraps a float array without copying. */
    public static Tensor of(float[] data, long... shape) {
        if (data.length != numel(shape)) {
            throw new IllegalArgumentException(data.length + " values do not fill shape " + Arrays.toString(shape));
        }
        return new Tensor(MemorySegment.ofArray(data), DType.F32, shape, null);
    }

    /** Wraps a double array without copying. */
    public static Tensor of(double[] data, long... shape) {
        if (data.length != numel(shape)) {
            throw new IllegalArgumentException(data.length + " values do not fill shape " + Arrays.toString(shape));
        }
        return new Tensor(MemorySegment.ofArray(data), DType.F64, shape, null);
    }

    /** Wraps an int array without copying (dtype i32). */
    public static Tensor ofInts(int[] data, long... shape) {
        if (data.length != numel(shape)) {
            throw new IllegalArgumentException(data.length + " values do not fill shape " + Arrays.toString(shape));
        }
        return new Tensor(MemorySegment.ofArray(data), DType.I32, shape, null);
    }

    /** Wraps existing storage (a mapped file region, a native buffer) as a view that does not own it. */
    public static Tensor wrap(MemorySegment segment, DType dtype, long... shape) {
        return new Tensor(segment, dtype, shape, null);
    }

    /** Allocates zeroed native memory in a confined arena that {@link #close()} frees. */
    public static Tensor allocateNative(DType dtype, long... shape) {
        Arena arena = Arena.ofShared();
        MemorySegment seg = arena.allocate(Math.max(1, numel(shape) * dtype.bytes), 64);
        return new Tensor(seg, dtype, shape, arena);
    }

    // ---------------------------------------------------------------- shape

    public DType dtype() { return dtype; }
    public long[] shape() { return shape.clone(); }
    public int rank() { return shape.length; }
    /** Host storage; throws {@link IllegalStateException} for a device tensor. */
    public MemorySegment segment() { return host(); }

    /** Size of dimension {@code d}; negative d counts from the end. */
    public long dim(int d) {
        return shape[d < 0 ? shape.length + d : d];
    }

    public int dimInt(int d) {
        return Math.toIntExact(dim(d));
    }

    public long numel() { return numel(shape); }

    public static long numel(long[] shape) {
        long n = 1;
        for (long s : shape) {
            if (s < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            n = Math.multiplyExact(n, s);
        }
        return n;
    }

    /** A view with another shape of the same element count; one dimension may be -1. */
    public Tensor reshape(long... newShape) {
        long[] s = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("only one -1 allowed in " + Arrays.toString(newShape));
                infer = i;
            } else known *= s[i];
        }
        if (infer >= 0) s[infer] = known == 0 ? 0 : numel() / known;
        if (numel(s) != numel()) {
            throw new IllegalArgumentException("cannot reshape " + shapeString() + " to " + Arrays.toString(newShape));
        }
        return device != null ? new Tensor(device, false, dtype, s) : new Tensor(segment, dtype, s, null);
    }

    /** A view of rows [start, end) along the first dimension. */
    public Tensor slice(long start, long end) {
        if (shape.length == 0 || start < 0 || end > shape[0] || start > end) {
            throw new IndexOutOfBoundsException("slice [" + start + "," + end + ") of " + shapeString());
        }
        long row = numel() / Math.max(1, shape[0]) * dtype.bytes;
        long[] s = shape.clone();
        s[0] = end - start;
        if (device != null) return new Tensor(device.slice(start * row, (end - start) * row), false, dtype, s);
        return new Tensor(segment.asSlice(start * row, (end - start) * row), dtype, s, null);
    }

    /** Item {@code i} along the first dimension, without that dimension. */
    public Tensor get(long i) {
        Tensor s = slice(i, i + 1);
        return s.reshape(Arrays.copyOfRange(shape, 1, shape.length));
    }

    public String shapeString() {
        return dtype.lower() + Arrays.toString(shape);
    }

    public boolean sameShape(Tensor o) {
        return Arrays.equals(shape, o.shape);
    }

    // ---------------------------------------------------------------- element access

    public float getFloat(long i) {
        return switch (dtype) {
            case F32 -> host().getAtIndex(F32, i);
            case F64 -> (float) host().getAtIndex(F64, i);
            case F16 -> Half.f16ToF32(host().getAtIndex(I16, i));
            case BF16 -> Half.bf16ToF32(host().getAtIndex(I16, i));
            case I32 -> host().getAtIndex(I32, i);
            case I64 -> host().getAtIndex(I64, i);
            case U8 -> Byte.toUnsignedInt(host().get(ValueLayout.JAVA_BYTE, i));
        };
    }

    public double getDouble(long i) {
        return switch (dtype) {
            case F64 -> host().getAtIndex(F64, i);
            case I64 -> host().getAtIndex(I64, i);
            default -> getFloat(i);
        };
    }

    public long getLong(long i) {
        return switch (dtype) {
            case I32 -> host().getAtIndex(I32, i);
            case I64 -> host().getAtIndex(I64, i);
            case U8 -> Byte.toUnsignedInt(host().get(ValueLayout.JAVA_BYTE, i));
            default -> {
                double d = getDouble(i);
                if (d != Math.rint(d)) throw new IllegalStateException("value " + d + " at " + i + " is not an integer");
                yield (long) d;
            }
        };
    }

    public void setFloat(long i, float v) {
        switch (dtype) {
            case F32 -> host().setAtIndex(F32, i, v);
            case F64 -> host().setAtIndex(F64, i, v);
            case F16 -> host().setAtIndex(I16, i, Half.f32ToF16(v));
            case BF16 -> host().setAtIndex(I16, i, Half.f32ToBf16(v));
            default -> throw new UnsupportedOperationException("setFloat on " + dtype);
        }
    }

    public void setDouble(long i, double v) {
        if (dtype == DType.F64) host().setAtIndex(F64, i, v);
        else setFloat(i, (float) v);
    }

    /**
     * The backing float array when this is an f32 tensor on the heap starting at element 0 of an array of
     * exactly its size; otherwise null. CPU kernels use it to skip a copy.
     */
    public float[] heapFloats() {
        if (segment == null || dtype != DType.F32 || segment.address() != 0) return null;
        Object base = segment.heapBase().orElse(null);
        return base instanceof float[] a && a.length == numel() ? a : null;
    }

    /** Like {@link #heapFloats()} for f64: the backing double array when it is exactly this tensor, else null. */
    public double[] heapDoubles() {
        if (dtype != DType.F64 || segment.address() != 0) return null;
        Object base = segment.heapBase().orElse(null);
        return base instanceof double[] a && a.length == numel() ? a : null;
    }

    /** The elements as a float array: the backing array itself where {@link #heapFloats()} allows, else a copy. */
    public float[] floats() {
        float[] a = heapFloats();
        return a != null ? a : toFloatArray();
    }

    /** A new float array with the elements converted to float32. */
    public float[] toFloatArray() {
        int n = Math.toIntExact(numel());
        float[] out = new float[n];
        if (dtype == DType.F32) {
            MemorySegment.copy(host(), F32, 0, out, 0, n);
        } else {
            for (int i = 0; i < n; i++) out[i] = getFloat(i);
        }
        return out;
    }

    public double[] toDoubleArray() {
        int n = Math.toIntExact(numel());
        double[] out = new double[n];
        if (dtype == DType.F64) MemorySegment.copy(host(), F64, 0, out, 0, n);
        else for (int i = 0; i < n; i++) out[i] = getDouble(i);
        return out;
    }

    public long[] toLongArray() {
        int n = Math.toIntExact(numel());
        long[] out = new long[n];
        for (int i = 0; i < n; i++) out[i] = getLong(i);
        return out;
    }

    public int[] toIntArray() {
        int n = Math.toIntExact(numel());
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = Math.toIntExact(getLong(i));
        return out;
    }

    /** This tensor as f32 on the heap: itself when it already is, else a converted copy. */
    public Tensor toF32() {
        return heapFloats() != null ? this : of(toFloatArray(), shape);
    }

    /** A heap f32 copy that shares nothing with this tensor. */
    public Tensor copy() {
        return of(toFloatArray(), shape);
    }

    /** Converts to another dtype (a copy; floats are rounded, integers must be exact). */
    public Tensor to(DType target) {
        if (target == DType.F32) return of(toFloatArray(), shape);
        if (target == DType.F64) return of(toDoubleArray(), shape);
        Tensor out = allocateHeap(target, shape);
        long n = numel();
        for (long i = 0; i < n; i++) {
            switch (target) {
                case F16, BF16 -> out.setFloat(i, getFloat(i));
                case I32 -> out.host().setAtIndex(I32, i, Math.toIntExact(getLong(i)));
                case I64 -> out.host().setAtIndex(I64, i, getLong(i));
                case U8 -> {
                    long v = getLong(i);
                    if (v < 0 || v > 255) throw new IllegalArgumentException("value " + v + " does not fit u8");
                    out.segment.set(ValueLayout.JAVA_BYTE, i, (byte) v);
                }
                default -> throw new AssertionError(target);
            }
        }
        return out;
    }

    /** Zeroed heap storage of any dtype. */
    public static Tensor allocateHeap(DType dtype, long... shape) {
        long bytes = numel(shape) * dtype.bytes;
        MemorySegment seg = switch (dtype) {
            case F32 -> MemorySegment.ofArray(new float[Math.toIntExact(numel(shape))]);
            case F64 -> MemorySegment.ofArray(new double[Math.toIntExact(numel(shape))]);
            case I32 -> MemorySegment.ofArray(new int[Math.toIntExact(numel(shape))]);
            case I64 -> MemorySegment.ofArray(new long[Math.toIntExact(numel(shape))]);
            case F16, BF16 -> MemorySegment.ofArray(new short[Math.toIntExact(numel(shape))]);
            case U8 -> MemorySegment.ofArray(new byte[Math.toIntExact(bytes)]);
        };
        return new Tensor(seg, dtype, shape, null);
    }

    /** Frees owned native (or device) storage; a no-op for heap tensors and views. */
    @Override
    public void close() {
        if (owner != null) owner.close();
        if (ownsDevice) device.release();
    }

    @Override
    public String toString() {
        return "Tensor" + shapeString() + (device != null ? "@" + device.device() : "");
    }
}
