package brain2img.io.torch;

import brain2img.io.FormatException;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A tensor as the pickle describes it: a storage, an element offset into it, sizes and strides (in elements).
 * The layout is checked against the storage's element count when the description is made, so that
 * {@link #materialise} never reads outside the storage.
 */
record TorchTensor(Storage storage, long offset, long[] shape, long[] stride) {

    static TorchTensor of(Storage storage, long offset, long[] shape, long[] stride) {
        try {
            long numel = 1, last = offset;
            for (int i = 0; i < shape.length; i++) {
                numel = Math.multiplyExact(numel, shape[i]);
                if (shape[i] > 0) last = Math.addExact(last, Math.multiplyExact(shape[i] - 1, stride[i]));
            }
            if (numel > 0 && last >= storage.numel()) {
                throw new FormatException("tensor " + Arrays.toString(shape) + " with stride " + Arrays.toString(stride)
                        + " at offset " + offset + " reaches element " + last + " of storage " + Pickle.quote(storage.key())
                        + ", which has " + storage.numel());
            }
        } catch (ArithmeticException e) {
            throw new FormatException("tensor size " + Arrays.toString(shape) + " / stride " + Arrays.toString(stride) + " overflows");
        }
        return new TorchTensor(storage, offset, shape.clone(), stride.clone());
    }

    DType dtype() {
        return storage.type().dtype();
    }

    /** True when the strides are C order for the shape (dimensions of size 1 may have any stride). */
    boolean contiguous() {
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    /**
     * The tensor over the bytes of its keyed storage ({@code storageBytes} starts at the storage's element 0 and
     * holds at least {@code elementOffset + numel} elements): a zero-copy view when contiguous, else a C-order
     * heap copy.
     */
    Tensor materialise(MemorySegment storageBytes) {
        int eb = storage.elementBytes();
        long numel = Tensor.numel(shape);
        if (numel == 0) return Tensor.wrap(storageBytes.asSlice(0, 0), dtype(), shape); // any offset is valid then
        long base = (storage.elementOffset() + offset) * eb;
        if (contiguous()) return Tensor.wrap(storageBytes.asSlice(base, numel * eb), dtype(), shape);
        Tensor out = Tensor.allocateHeap(dtype(), shape);
        copyStrided(storageBytes, base, out.segment(), eb);
        return out;
    }

    /** Walks the index space in C order, copying each element from its strided position. */
    private void copyStrided(MemorySegment src, long base, MemorySegment dst, int eb) {
        long numel = Tensor.numel(shape);
        if (numel == 0) return;
        int rank = shape.length;
        long[] index = new long[rank];
        long srcElem = 0;
        for (long i = 0; i < numel; i++) {
            MemorySegment.copy(src, base + srcElem * eb, dst, i * eb, eb);
            for (int d = rank - 1; d >= 0; d--) { // odometer increment, keeping srcElem in step
                if (++index[d] < shape[d]) {
                    srcElem += stride[d];
                    break;
                }
                srcElem -= (shape[d] - 1) * stride[d];
                index[d] = 0;
            }
        }
    }
}
