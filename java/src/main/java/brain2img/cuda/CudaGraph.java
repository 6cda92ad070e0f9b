package brain2img.cuda;

import java.lang.foreign.MemorySegment;

/**
 * Work of a {@link CudaBackend} captured once ({@link CudaBackend#capture}) and replayed with one
 * {@code cuGraphLaunch}: the tensors the captured work produced are rewritten in place by every replay, and the
 * tensors it read are read again, so new inputs are written into the captured input tensors
 * ({@link CudaBackend#copyInto}) between replays. The memory the capture allocated stays reserved for the graph
 * until {@link #close()}.
 */
public final class CudaGraph implements AutoCloseable {
    private final CudaBackend backend;
    private final MemorySegment graph, exec;
    private final long[] pinned;
    private boolean closed;

    CudaGraph(CudaBackend backend, MemorySegment graph, MemorySegment exec, long[] pinned) {
        this.backend = backend;
        this.graph = graph;
        this.exec = exec;
        this.pinned = pinned;
    }

    /** Queues one replay on the backend's stream (asynchronous, like every other op). */
    public void replay() {
        if (closed) throw new IllegalStateException("CUDA graph already closed");
        backend.launchGraph(exec);
    }

    /** Device blocks reserved for this graph. */
    public int pinnedBlocks() { return pinned.length; }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        backend.destroyGraph(graph, exec, pinned);
    }
}
