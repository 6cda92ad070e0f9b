package brain2img.util;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/** Splits index ranges over one fork-join pool of all cores; small ranges run on the caller's thread. */
public final class Parallel {
    private Parallel() {}

    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    /** All cores by default (the common pool leaves one idle); {@code -Dbrain2img.threads=N} overrides. */
    private static final ForkJoinPool POOL = new ForkJoinPool(
            Integer.getInteger("brain2img.threads", Runtime.getRuntime().availableProcessors()));

    public static int threads() {
        return POOL.getParallelism();
    }

    /**
     * Runs body over [0,n) in chunks. {@code grain} is the smallest chunk worth a task; chunks are sized so
     * that each thread gets a few of them (load balance) but none is smaller than the grain.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) return;
        int threads = threads();
        if (threads <= 1 || n <= grain) {
            body.run(0, n);
            return;
        }
        int chunk = Math.max(grain, (n + threads * 4 - 1) / (threads * 4));
        POOL.invoke(new Task(body, 0, n, chunk));
    }

    private static final class Task extends RecursiveAction {
        private final RangeBody body;
        private final int from, to, chunk;

        Task(RangeBody body, int from, int to, int chunk) {
            this.body = body;
            this.from = from;
            this.to = to;
            this.chunk = chunk;
        }

        @Override
        protected void compute() {
            if (to - from <= chunk) {
                body.run(from, to);
                return;
            }
            int mid = from + (to - from) / 2;
            invokeAll(new Task(body, from, mid, chunk), new Task(body, mid, to, chunk));
        }
    }
}
