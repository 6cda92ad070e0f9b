package brain2img.cuda;

import brain2img.tensor.DeviceMemory;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The caching allocator against a fake device (counting raw allocations), so it is tested without a GPU. */
class CudaAllocatorTest {

    /** A fake device of {@code capacity} bytes that hands out increasing addresses. */
    static final class FakeDevice {
        final long capacity;
        long used, next = 1 << 20;
        int allocs, frees;
        final Set<Long> live = new HashSet<>();
        final java.util.Map<Long, Long> sizes = new java.util.HashMap<>();

        FakeDevice(long capacity) { this.capacity = capacity; }

        long alloc(long bytes) {
            if (used + bytes > capacity) throw new CudaException("cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY (2)", 2);
            allocs++;
            used += bytes;
            long p = next;
            next += bytes + 4096;
            live.add(p);
            sizes.put(p, bytes);
            return p;
        }

        void free(long p) {
            assertTrue(live.remove(p), "double or foreign free of " + p);
            frees++;
            used -= sizes.remove(p);
        }
    }

    @Test
    void sizeClassesBoundWasteAndAreMonotonic() {
        assertEquals(512, CudaAllocator.sizeClass(1));
        assertEquals(512, CudaAllocator.sizeClass(512));
        assertEquals(1024, CudaAllocator.sizeClass(513));
        assertEquals(1L << 20, CudaAllocator.sizeClass(1L << 20));
        assertEquals(5L << 18, CudaAllocator.sizeClass((1L << 20) + 1)); // 1.25 MiB
        long prev = 0;
        for (long b = 1; b < (1L << 34); b = b * 3 / 2 + 7) {
            long c = CudaAllocator.sizeClass(b);
            assertTrue(c >= b && c >= prev, "class of " + b);
            assertTrue(c <= Math.max(512, b * 1.25 + 512), "class " + c + " wastes too much for " + b);
            prev = c;
        }
    }

    @Test
    void releasedBlocksAreReusedWithoutDriverCalls() {
        FakeDevice dev = new FakeDevice(1L << 30);
        CudaAllocator a = new CudaAllocator("cuda:9", dev::alloc, dev::free);
        DeviceMemory m1 = a.allocate(1000);
        long p1 = m1.address();
        assertEquals(1024, a.inUse());
        m1.release();
        m1.release(); // idempotent
        assertEquals(0, a.inUse());
        assertEquals(1024, a.cached());
        DeviceMemory m2 = a.allocate(700); // same class (1024)
        assertEquals(p1, m2.address());
        assertEquals(1, dev.allocs);
        DeviceMemory m3 = a.allocate(5000);
        assertNotEquals(p1, m3.address());
        assertEquals(2, dev.allocs);
        assertEquals(1024 + 5120, a.peak());
        a.close();
        assertEquals(2, dev.frees);
        assertTrue(dev.live.isEmpty());
        var closed = assertThrows(IllegalStateException.class, () -> a.allocate(1));
        assertEquals("the CUDA backend on cuda:9 is closed", closed.getMessage());
        m2.release(); // after close: ignored, no double free
        assertEquals(2, dev.frees);
    }

    @Test
    void slicesAreViewsThatDoNotRelease() {
        FakeDevice dev = new FakeDevice(1L << 30);
        CudaAllocator a = new CudaAllocator("cuda:0", dev::alloc, dev::free);
        DeviceMemory m = a.allocate(4096);
        DeviceMemory s = m.slice(1024, 2048);
        assertEquals(m.address() + 1024, s.address());
        assertEquals(2048, s.byteSize());
        assertEquals("cuda:0", s.device());
        s.release();
        assertEquals(4096, a.inUse());
        var slice = assertThrows(IndexOutOfBoundsException.class, () -> m.slice(4000, 200));
        assertEquals("slice [4000, 4200) of 4096 device bytes", slice.getMessage());
        m.release();
        assertEquals(0, a.inUse());
    }

    @Test
    void outOfMemoryEmptiesTheCacheThenReportsLiveBytes() {
        FakeDevice dev = new FakeDevice(10 << 20);
        CudaAllocator a = new CudaAllocator("cuda:0", dev::alloc, dev::free);
        List<DeviceMemory> keep = new ArrayList<>();
        for (int i = 0; i < 4; i++) keep.add(a.allocate(2 << 20));
        keep.remove(3).release();
        keep.remove(2).release(); // 4 MiB cached, 4 MiB live, 2 MiB never allocated
        DeviceMemory big = a.allocate(5 << 20); // class 5 MiB: fits only once the cache is emptied
        assertEquals(0, a.cached());
        assertEquals(2, dev.frees);
        CudaException e = assertThrows(CudaException.class, () -> a.allocate(8 << 20));
        assertEquals(2, e.status);
        assertTrue(e.getMessage().startsWith("out of device memory on cuda:0: 8388608 bytes requested, " + a.inUse() + " in use"), e.getMessage());
        big.release();
        keep.forEach(DeviceMemory::release);
        a.close();
        assertTrue(dev.live.isEmpty());
    }

    @Test
    void graphCapturesPinTheirBlocksUntilUnpinned() {
        FakeDevice dev = new FakeDevice(1L << 30);
        CudaAllocator a = new CudaAllocator("cuda:0", dev::alloc, dev::free);
        DeviceMemory before = a.allocate(4096);
        before.release(); // cached, free
        a.beginCapture();
        DeviceMemory t1 = a.allocate(4096);           // takes the cached block
        assertEquals(before.address(), t1.address());
        t1.release();                                 // freed inside the capture: private to it
        DeviceMemory t2 = a.allocate(4096);           // reuses it within the capture
        assertEquals(t1.address(), t2.address());
        DeviceMemory out = a.allocate(8192);          // the graph's output, kept by the caller
        var twice = assertThrows(IllegalStateException.class, a::beginCapture);
        assertEquals("a CUDA graph capture is already in progress on cuda:0", twice.getMessage());
        long[] pinned = a.endCapture();
        assertEquals(2, pinned.length);
        t2.release();
        assertEquals(0, a.cached(), "a pinned block is held, not cached");
        DeviceMemory other = a.allocate(4096);
        assertNotEquals(t2.address(), other.address(), "memory a graph writes must not be handed out");
        out.release();
        a.unpin(pinned);
        assertEquals(4096 + 8192, a.cached());
        assertEquals(t2.address(), a.allocate(4096).address());
        a.close();
        assertTrue(dev.live.isEmpty());
    }

    @Test
    void unreachableBuffersReturnToTheCache() throws InterruptedException {
        FakeDevice dev = new FakeDevice(1L << 30);
        CudaAllocator a = new CudaAllocator("cuda:0", dev::alloc, dev::free);
        for (int i = 0; i < 10; i++) a.allocate(4096); // dropped at once, never released explicitly
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (a.inUse() > 0 && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        assertEquals(0, a.inUse(), "the cleaner did not return unreachable blocks");
        assertEquals(10 * 4096, a.cached());
        a.close();
    }
}
