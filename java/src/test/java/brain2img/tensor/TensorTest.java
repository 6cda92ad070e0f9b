package brain2img.tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TensorTest {

    private static Tensor iota(long... shape) {
        float[] d = new float[(int) Tensor.numel(shape)];
        for (int i = 0; i < d.length; i++) d[i] = i;
        return Tensor.of(d, shape);
    }

    @Test
    void reshapeAndSliceAreViewsSharingStorage() {
        Tensor t = iota(4, 3, 2);
        Tensor r = t.reshape(2, -1);
        assertArrayEquals(new long[]{2, 12}, r.shape());
        Tensor s = t.slice(1, 3);
        assertArrayEquals(new long[]{2, 3, 2}, s.shape());
        assertEquals(6f, s.getFloat(0));
        s.setFloat(0, -1f);          // writes through the view
        assertEquals(-1f, t.getFloat(6));
        assertEquals(-1f, r.getFloat(6));
        Tensor g = t.get(3);
        assertArrayEquals(new long[]{3, 2}, g.shape());
        assertEquals(18f, g.getFloat(0));
        var size = assertThrows(IllegalArgumentException.class, () -> t.reshape(5, 5));
        assertTrue(size.getMessage().contains("[4, 3, 2]") && size.getMessage().contains("[5, 5]"), size.getMessage());
        var twice = assertThrows(IllegalArgumentException.class, () -> t.reshape(-1, -1));
        assertTrue(twice.getMessage().contains("only one -1") && twice.getMessage().contains("[-1, -1]"), twice.getMessage());
        var slice = assertThrows(IndexOutOfBoundsException.class, () -> t.slice(2, 5));
        assertTrue(slice.getMessage().contains("[2,5)") && slice.getMessage().contains("[4, 3, 2]"), slice.getMessage());
    }

    @Test
    void heapFloatsOnlyForWholeHeapArrays() {
        Tensor t = iota(4, 3);
        assertNotNull(t.heapFloats());
        assertSame(t, t.toF32());
        assertNull(t.slice(1, 2).heapFloats(), "a slice does not start at element 0");
        Tensor copy = t.slice(1, 2).toF32();
        assertArrayEquals(new float[]{3, 4, 5}, copy.heapFloats());
    }

    @Test
    void halfAndBfloatConversionsRoundTrip() {
        float[] vals = {0f, 1f, -2.5f, 65504f, 1e-4f, 3.14159f, -0f};
        Tensor t = Tensor.of(vals, vals.length);
        Tensor h = t.to(DType.F16);
        Tensor b = t.to(DType.BF16);
        assertEquals(DType.F16, h.dtype());
        for (int i = 0; i < vals.length; i++) {
            assertEquals(vals[i], h.getFloat(i), Math.abs(vals[i]) * 1e-3, "f16 " + vals[i]);
            assertEquals(vals[i], b.getFloat(i), Math.abs(vals[i]) * 8e-3, "bf16 " + vals[i]);
        }
        // bf16 keeps float32's exponent range where f16 overflows
        assertEquals(Float.POSITIVE_INFINITY, Tensor.of(new float[]{1e5f}, 1).to(DType.F16).getFloat(0));
        assertEquals(1e5f, Tensor.of(new float[]{1e5f}, 1).to(DType.BF16).getFloat(0), 1e3f);
        // round to nearest even: 1 + 2^-8 lies halfway between two bf16 values and rounds to 1
        assertEquals(1f, Half.bf16ToF32(Half.f32ToBf16(1f + 1f / 256)));
        assertTrue(Float.isNaN(Half.bf16ToF32(Half.f32ToBf16(Float.NaN))));
    }

    @Test
    void integerConversionsAreExact() {
        Tensor t = Tensor.of(new float[]{1, 2, 255}, 3);
        assertArrayEquals(new int[]{1, 2, 255}, t.to(DType.I32).toIntArray());
        assertArrayEquals(new long[]{1, 2, 255}, t.to(DType.I64).toLongArray());
        assertEquals(255f, t.to(DType.U8).getFloat(2));
        var u8 = assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[]{256}, 1).to(DType.U8));
        assertTrue(u8.getMessage().contains("256") && u8.getMessage().contains("u8"), u8.getMessage());
        var i32 = assertThrows(IllegalStateException.class, () -> Tensor.of(new float[]{1.5f}, 1).to(DType.I32));
        assertTrue(i32.getMessage().contains("1.5") && i32.getMessage().contains("not an integer"), i32.getMessage());
    }

    @Test
    void nativeTensorsAreFreedByClose() {
        Tensor n = Tensor.allocateNative(DType.F32, 2, 3);
        n.setFloat(5, 7f);
        assertEquals(7f, n.getFloat(5));
        MemorySegment seg = n.segment();
        n.close();
        var closed = assertThrows(IllegalStateException.class, () -> seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage()); // the JDK's message for a freed arena
    }

    @Test
    void wrongSizesAreRejectedWithTheShape() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[5], 2, 3));
        assertTrue(e.getMessage().contains("[2, 3]"), e.getMessage());
        var negative = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(-1, 2));
        assertTrue(negative.getMessage().contains("negative dimension in [-1, 2]"), negative.getMessage());
    }
}
