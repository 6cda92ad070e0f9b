package brain2img.ridge;

import brain2img.tensor.Tensor;

import java.util.Locale;

/**
 * A {@link DenseLinAlg} that forwards to another and adds up the wall time spent in GEMM (and its FLOPs), in the
 * eigensolver and in the Cholesky solves, so that {@code ridge bench --verbose} can say where a fit's time goes:
 * whatever the fit's wall time has beyond these is element-wise work, copies and bookkeeping.
 */
final class TimedLinAlg implements DenseLinAlg {
    private final DenseLinAlg inner;
    private long gemmNanos, eighNanos, cholNanos, gemmCalls, eighCalls, cholCalls;
    private double gemmFlops;

    TimedLinAlg(DenseLinAlg inner) {
        this.inner = inner;
    }

    @Override
    public String describe() {
        return inner.describe();
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
                     Tensor a, long aOff, int lda, Tensor b, long bOff, int ldb,
                     double beta, Tensor c, long cOff, int ldc) {
        long t0 = System.nanoTime();
        inner.gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        gemmNanos += System.nanoTime() - t0;
        gemmFlops += 2.0 * m * n * k;
        gemmCalls++;
    }

    @Override
    public double[] eigh(Tensor a) {
        long t0 = System.nanoTime();
        double[] w = inner.eigh(a);
        eighNanos += System.nanoTime() - t0;
        eighCalls++;
        return w;
    }

    @Override
    public boolean choleskySolve(Tensor a, Tensor b) {
        long t0 = System.nanoTime();
        boolean ok = inner.choleskySolve(a, b);
        synchronized (this) { // summed over concurrent calls (forEachIndependent): CPU-like time, not wall time
            cholNanos += System.nanoTime() - t0;
            cholCalls++;
        }
        return ok;
    }

    @Override
    public void forEachIndependent(int count, java.util.function.IntConsumer task) {
        inner.forEachIndependent(count, task);
    }

    /** One line: the GEMM, eigensolver and Cholesky time, and the rest of {@code totalSeconds}. */
    String summary(double totalSeconds) {
        double g = gemmNanos / 1e9, e = eighNanos / 1e9, c = cholNanos / 1e9;
        return String.format(Locale.ROOT, "GEMM %.1f s (%d calls, %.0f GFLOP, %.1f GFLOP/s), eigendecomposition %.1f s (%d calls), "
                        + "Cholesky solves %.1f s summed over threads (%d calls), other (element-wise, copies, overlap) %.1f s",
                g, gemmCalls, gemmFlops / 1e9, gemmFlops / Math.max(g, 1e-9) / 1e9, e, eighCalls, c, cholCalls, totalSeconds - g - e - c);
    }
}
