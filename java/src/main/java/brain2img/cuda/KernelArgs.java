package brain2img.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The {@code void** kernelParams} of one cuLaunchKernel: each argument's value in native memory and an array of
 * pointers to them, in the kernel's parameter order. The driver copies the values at launch, so the arena is
 * closed right after.
 */
final class KernelArgs implements AutoCloseable {
    private final Arena arena = Arena.ofConfined();
    private final List<MemorySegment> values = new ArrayList<>();

    /** A device pointer (or any 64-bit value). */
    KernelArgs ptr(long devicePointer) {
        values.add(arena.allocateFrom(JAVA_LONG, devicePointer));
        return this;
    }

    KernelArgs i64(long v) { return ptr(v); }

    KernelArgs i32(int v) {
        values.add(arena.allocateFrom(JAVA_INT, v));
        return this;
    }

    KernelArgs f32(float v) {
        values.add(arena.allocateFrom(JAVA_FLOAT, v));
        return this;
    }

    /** A struct passed by value: its bytes, laid out as the C compiler lays out the struct. */
    KernelArgs struct(MemorySegment bytes) {
        MemorySegment s = arena.allocate(bytes.byteSize(), 8);
        s.copyFrom(bytes);
        values.add(s);
        return this;
    }

    Arena arena() { return arena; }

    MemorySegment array() {
        MemorySegment a = arena.allocate(ADDRESS, Math.max(1, values.size()));
        for (int i = 0; i < values.size(); i++) a.setAtIndex(ADDRESS, i, values.get(i));
        return a;
    }

    @Override
    public void close() {
        arena.close();
    }
}
