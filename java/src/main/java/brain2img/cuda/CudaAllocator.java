package brain2img.cuda;

import brain2img.tensor.DeviceMemory;

import java.lang.ref.Cleaner;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongConsumer;
import java.util.function.LongUnaryOperator;

/**
 * A caching device allocator for one stream. Freed blocks go to a free list keyed by size class and are handed
 * out again without a driver call; since every kernel of the backend runs on that one stream, a block freed
 * after work was queued and reused by later work is ordered by the stream itself (no synchronisation needed).
 *
 * <p>Size classes: multiples of 512 bytes up to 1 MiB, then four classes per power of two (≤ 25 % waste), so the
 * activations of a repeated U-Net step map to the same blocks every step. Memory returns to the cache when
 * its tensor is closed or, for tensors nobody closes (model code written for the CPU lets the GC take them),
 * when the buffer becomes unreachable ({@link Cleaner}). When the device is full the cache is emptied, then the
 * GC is asked to collect unreachable buffers, before an out-of-memory error is reported.
 *
 * <p>CUDA graphs: between {@link #beginCapture()} and {@link #endCapture()} every block handed out or given back
 * is recorded, and blocks given back go to a pool private to the capture (reusing them later in the same capture
 * is ordered by the graph). Afterwards those blocks are pinned by the graph: a pinned block given back is held
 * until every graph pinning it is closed ({@link #unpin}), so replays never write into memory handed to others.
 */
final class CudaAllocator {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final long SMALL = 1L << 20;

    private final String device;
    private final LongUnaryOperator rawAlloc; // bytes → device pointer, throws CudaException
    private final LongConsumer rawFree;
    private final TreeMap<Long, ArrayDeque<Long>> free = new TreeMap<>();
    private final Map<Long, Long> live = new HashMap<>(); // pointer → size class of blocks handed out
    private long inUse, cached, peak;
    private boolean closed;
    private java.util.Set<Long> capturing;                   // blocks touched by the capture in progress
    private final TreeMap<Long, ArrayDeque<Long>> captureFree = new TreeMap<>();
    private final Map<Long, Integer> pins = new HashMap<>();  // block → graphs pinning it
    private final Map<Long, Long> held = new HashMap<>();     // pinned blocks given back → size class

    CudaAllocator(String device, LongUnaryOperator rawAlloc, LongConsumer rawFree) {
        this.device = device;
        this.rawAlloc = rawAlloc;
        this.rawFree = rawFree;
    }

    /** The size class a request of {@code bytes} is served from. */
    static long sizeClass(long bytes) {
        long b = Math.max(bytes, 1);
        if (b <= SMALL) return (b + 511) & ~511L;
        long pow = Long.highestOneBit(b);
        long quarter = pow >> 2;
        return (b + quarter - 1) / quarter * quarter;
    }

    /** A new owning buffer of at least {@code bytes} bytes (contents undefined). */
    DeviceMemory allocate(long bytes) {
        long cls = sizeClass(bytes);
        long ptr = take(cls);
        Block block = new Block(this, ptr);
        Buffer buf = new Buffer(device, ptr, bytes, block, null);
        block.cleanable = CLEANER.register(buf, block);
        return buf;
    }

    private long take(long cls) {
        synchronized (this) {
            if (closed) throw new IllegalStateException("the CUDA backend on " + device + " is closed");
            if (capturing != null) {
                ArrayDeque<Long> cq = captureFree.get(cls);
                if (cq != null && !cq.isEmpty()) return handOut(cq.pop(), cls);
            }
            ArrayDeque<Long> q = free.get(cls);
            if (q != null && !q.isEmpty()) {
                long p = q.pop();
                cached -= cls;
                return handOut(p, cls);
            }
        }
        long p;
        try {
            p = rawAlloc.applyAsLong(cls);
        } catch (CudaException e) {
            if (e.status != CudaDriver.CUDA_ERROR_OUT_OF_MEMORY) throw e;
            p = retryAfterOom(cls, e);
        }
        synchronized (this) {
            return handOut(p, cls);
        }
    }

    private long retryAfterOom(long cls, CudaException first) {
        emptyCache();
        try {
            return rawAlloc.applyAsLong(cls);
        } catch (CudaException e) {
            if (e.status != CudaDriver.CUDA_ERROR_OUT_OF_MEMORY) throw e;
        }
        // Unreachable tensors still hold blocks until their cleaners run.
        System.gc();
        try {
            Thread.sleep(50);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
        emptyCache();
        try {
            return rawAlloc.applyAsLong(cls);
        } catch (CudaException e) {
            throw new CudaException("out of device memory on " + device + ": " + cls + " bytes requested, "
                    + inUse() + " in use by live tensors (" + first.getMessage() + ")", e.status);
        }
    }

    private long handOut(long p, long cls) {
        if (capturing != null) capturing.add(p);
        live.put(p, cls);
        inUse += cls;
        peak = Math.max(peak, inUse);
        return p;
    }

    private synchronized void giveBack(long ptr) {
        Long cls = live.remove(ptr);
        if (cls == null || closed) return;
        inUse -= cls;
        if (capturing != null) {
            capturing.add(ptr);
            captureFree.computeIfAbsent(cls, c -> new ArrayDeque<>()).push(ptr);
        } else if (pins.containsKey(ptr)) {
            held.put(ptr, cls);
        } else {
            cached += cls;
            free.computeIfAbsent(cls, c -> new ArrayDeque<>()).push(ptr);
        }
    }

    /** Starts recording the blocks a graph capture touches. */
    synchronized void beginCapture() {
        if (capturing != null) throw new IllegalStateException("a CUDA graph capture is already in progress on " + device);
        capturing = new java.util.HashSet<>();
    }

    /** Ends recording; the touched blocks are pinned (once more) and returned, for {@link #unpin} when the graph goes. */
    synchronized long[] endCapture() {
        long[] touched = capturing.stream().mapToLong(Long::longValue).toArray();
        capturing = null;
        for (long p : touched) pins.merge(p, 1, Integer::sum);
        for (var e : captureFree.entrySet()) for (long p : e.getValue()) held.put(p, e.getKey());
        captureFree.clear();
        return touched;
    }

    /** A graph that pinned these blocks is gone: blocks no graph pins any more and nobody holds return to the cache. */
    synchronized void unpin(long[] blocks) {
        for (long p : blocks) {
            Integer n = pins.get(p);
            if (n == null) continue;
            if (n > 1) {
                pins.put(p, n - 1);
                continue;
            }
            pins.remove(p);
            Long cls = held.remove(p);
            if (cls != null && !closed) {
                cached += cls;
                free.computeIfAbsent(cls, c -> new ArrayDeque<>()).push(p);
            }
        }
    }

    /** Frees every cached (unused) block back to the driver. */
    synchronized void emptyCache() {
        for (ArrayDeque<Long> q : free.values()) for (long p : q) rawFree.accept(p);
        free.clear();
        cached = 0;
    }

    synchronized long inUse() { return inUse; }

    synchronized long cached() { return cached; }

    synchronized long peak() { return peak; }

    /** Frees everything, live blocks included; later releases are ignored. */
    synchronized void close() {
        if (closed) return;
        emptyCache();
        for (long p : live.keySet()) rawFree.accept(p);
        for (long p : held.keySet()) rawFree.accept(p);
        for (ArrayDeque<Long> q : captureFree.values()) for (long p : q) rawFree.accept(p);
        live.clear();
        held.clear();
        captureFree.clear();
        pins.clear();
        inUse = 0;
        closed = true;
    }

    /** The release action of one block: run once, by {@code release()} or by the cleaner. */
    private static final class Block implements Runnable {
        private final CudaAllocator owner;
        private final long ptr;
        Cleaner.Cleanable cleanable;

        Block(CudaAllocator owner, long ptr) {
            this.owner = owner;
            this.ptr = ptr;
        }

        @Override
        public void run() {
            owner.giveBack(ptr);
        }
    }

    /** Device memory handed out by this allocator, or a view of it ({@code parent} keeps the block alive). */
    private record Buffer(String device, long address, long byteSize, Block block, Buffer parent) implements DeviceMemory {
        @Override
        public DeviceMemory slice(long offset, long bytes) {
            if (offset < 0 || bytes < 0 || offset + bytes > byteSize) {
                throw new IndexOutOfBoundsException("slice [" + offset + ", " + (offset + bytes) + ") of " + byteSize + " device bytes");
            }
            return new Buffer(device, address + offset, bytes, null, parent != null ? parent : this);
        }

        @Override
        public void release() {
            if (block != null) block.cleanable.clean();
        }
    }
}
