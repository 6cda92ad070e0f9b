package brain2img.tensor;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Device tensors with a fake device memory: views, shapes and ownership work; host access fails clearly. */
class DeviceTensorTest {

    record Fake(String device, long address, long byteSize, AtomicInteger releases) implements DeviceMemory {
        @Override
        public DeviceMemory slice(long offset, long bytes) {
            return new Fake(device, address + offset, bytes, new AtomicInteger());
        }

        @Override
        public void release() { releases.incrementAndGet(); }
    }

    @Test
    void viewsOffsetTheDeviceAddress() {
        Fake mem = new Fake("cuda:0", 0x10000, 4 * 24, new AtomicInteger());
        Tensor t = Tensor.onDevice(mem, true, DType.F32, 2, 3, 4);
        assertTrue(t.isOnDevice());
        assertEquals("Tensor" + "f32[2, 3, 4]@cuda:0", t.toString());
        Tensor s = t.slice(1, 2);
        assertEquals(0x10000 + 48, s.deviceMemory().address());
        assertEquals(48, s.deviceMemory().byteSize());
        Tensor g = t.get(1).reshape(12);
        assertEquals(0x10000 + 48, g.deviceMemory().address());
        assertEquals(12, g.numel());
        assertEquals(0x10000 + 48, t.reshape(6, 4).slice(3, 5).deviceMemory().address());
    }

    @Test
    void hostAccessFailsWithTheDeviceName() {
        Tensor t = Tensor.onDevice(new Fake("cuda:1", 0x20000, 16, new AtomicInteger()), true, DType.F32, 4);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.getFloat(0));
        assertEquals("tensor f32[4] is in cuda:1 memory; download it through its backend first", e.getMessage());
        assertEquals(e.getMessage(), assertThrows(IllegalStateException.class, t::toFloatArray).getMessage());
        assertEquals(e.getMessage(), assertThrows(IllegalStateException.class, t::segment).getMessage());
        assertEquals(e.getMessage(), assertThrows(IllegalStateException.class, t::toF32).getMessage());
        assertNull(t.heapFloats());
        assertFalse(Tensor.zeros(2).isOnDevice());
        assertNull(Tensor.zeros(2).deviceMemory());
    }

    @Test
    void onlyTheOwnerReleases() {
        AtomicInteger rel = new AtomicInteger();
        Tensor t = Tensor.onDevice(new Fake("cuda:0", 0x30000, 64, rel), true, DType.F16, 32);
        t.reshape(4, 8).close();
        assertEquals(0, rel.get());
        t.close();
        assertEquals(1, rel.get());
        Tensor view = Tensor.onDevice(new Fake("cuda:0", 0x30000, 64, rel), false, DType.F16, 32);
        view.close();
        assertEquals(1, rel.get());
    }

    @Test
    void storageMustCoverTheShape() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.onDevice(new Fake("cuda:0", 0, 15, new AtomicInteger()), true, DType.F32, 4));
        assertEquals("device storage of 15 bytes is too small for f32[4]", e.getMessage());
    }
}
