package brain2img.cuda;

import brain2img.tensor.DType;
import brain2img.tensor.Tensor;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.Random;
import java.util.function.Supplier;

/**
 * Throughput of the CUDA backend's building blocks at Stable Diffusion v1 shapes (64×64 latent, batch 2 = one
 * guidance pair): cuBLAS GEMM in each precision, flash attention, the 3×3 convolution, group norm. Timed with
 * CUDA events on the backend's stream after warm-up; each figure is the mean of {@code reps} launches.
 */
public final class CudaBench {
    private final PrintStream out;
    private final int reps;
    private final Random rnd = new Random(1);

    public CudaBench(PrintStream out, int reps) {
        this.out = out;
        this.reps = reps;
    }

    public void run() {
        out.printf(Locale.ROOT, "%-44s %10s %10s%n", "operation", "ms", "TFLOP/s");
        for (CudaBackend.Precision p : CudaBackend.Precision.values()) {
            try (CudaBackend be = new CudaBackend(p)) {
                int n = 4096;
                Tensor a = be.upload(weight(n, n)), b = be.upload(weight(n, n));
                Tensor c = be.allocate(n, n);
                double ms = time(be, () -> {
                    be.gemm(false, true, n, n, n, 1f, a, 0, n, 0, b, 0, n, 0, 0f, c, 0, n, 0, 1);
                    return null;
                });
                row("gemm 4096³ " + p.name().toLowerCase(Locale.ROOT) + " (" + a.dtype().lower() + " inputs)", ms, 2.0 * n * n * n);
                if (p == CudaBackend.Precision.FP16) {
                    Tensor x = be.upload(rand(2 * 4096, 320)), w = be.upload(weight(1280, 320));
                    row("linear (8192×320)·(320→1280) fp16", time(be, () -> be.linear(x, w, null)), 2.0 * 8192 * 320 * 1280);
                }
            }
        }
        try (CudaBackend be = new CudaBackend(CudaBackend.Precision.FP32)) {
            out.println("[" + be.describe() + "]");
            int b = 2, l = 4096, h = 8, d = 40;
            Tensor q = be.upload(rand(b, l, h * d)), k = be.upload(rand(b, l, h * d)), v = be.upload(rand(b, l, h * d));
            float sc = (float) (1 / Math.sqrt(d));
            row("self-attention B2 L4096 H8 D40 (fp32)", time(be, () -> be.attention(q, k, v, h, sc, null, false)), 4.0 * b * h * l * l * d);
            Tensor kc = be.upload(rand(b, 77, h * d)), vc = be.upload(rand(b, 77, h * d));
            row("cross-attention B2 L4096×77 H8 D40", time(be, () -> be.attention(q, kc, vc, h, sc, null, false)), 4.0 * b * h * l * 77 * d);
            Tensor q3 = be.upload(rand(b, 256, 1280)), k3 = be.upload(rand(b, 256, 1280)), v3 = be.upload(rand(b, 256, 1280));
            row("self-attention B2 L256 H8 D160", time(be, () -> be.attention(q3, k3, v3, h, sc, null, false)), 4.0 * b * h * 256 * 256 * 160);
            Tensor x = be.upload(rand(b, 320, 64, 64)), w = be.upload(weight(320, 320, 3, 3)), bias = be.upload(rand(320));
            row("conv3x3 B2 320→320 64×64 (fp32)", time(be, () -> be.conv2d(x, w, bias, 1, 1, 1, 1, 1, 1)), 2.0 * b * 320 * 320 * 9 * 4096);
            Tensor g = be.upload(rand(320)), bt = be.upload(rand(320));
            double gn = time(be, () -> be.groupNorm(x, 32, g, bt, 1e-5f, true));
            // three reads (mean, variance, normalise) and one write of the tensor
            out.printf(Locale.ROOT, "%-44s %10.3f %10s  (%.0f GB/s)%n", "groupNorm+SiLU B2 320×64×64", gn, "-",
                    16.0 * x.numel() / (gn * 1e6));
            out.println("[device memory: " + be.memoryStats() + "]");
            if (CuSolver.loadError() == null) ridge(be);
        }
    }

    /** Wall time of a 7-penalty ridge fit (primal form: Gram, eigendecomposition, two GEMMs per penalty). */
    private void ridge(CudaBackend be) {
        int n = 8192, p = 4096, t = 8192;
        double[] alphas = {1, 10, 100, 1e3, 1e4, 1e5, 1e6};
        Tensor x = be.upload(rand(n, p)), y = be.upload(rand(n, t));
        CudaRidge ridge = new CudaRidge(be);
        be.synchronize();
        long t0 = System.nanoTime();
        for (Tensor w : ridge.fit(x, y, alphas)) w.close();
        be.synchronize();
        double ms = (System.nanoTime() - t0) / 1e6;
        double flop = 2.0 * n * p * p + 2.0 * n * p * t + alphas.length * 2.0 * p * p * t + 2.0 * p * p * t;
        out.printf(Locale.ROOT, "%-44s %10.1f %10.1f  (GEMM FLOPs only; syevd %d² included in the time)%n",
                "ridge n8192 p4096 t8192, 7 alphas (fp32)", ms, flop / (ms * 1e-3) / 1e12, p);
    }

    private void row(String what, double ms, double flop) {
        out.printf(Locale.ROOT, "%-44s %10.3f %10.1f%n", what, ms, flop / (ms * 1e-3) / 1e12);
    }

    /** Mean milliseconds per call after two warm-up calls; results are closed as they come (back to the cache). */
    private double time(CudaBackend be, Supplier<Tensor> op) {
        for (int i = 0; i < 2; i++) close(op.get());
        be.synchronize();
        MemorySegment e0 = CudaDriver.eventCreate(CudaDriver.CU_EVENT_DEFAULT), e1 = CudaDriver.eventCreate(CudaDriver.CU_EVENT_DEFAULT);
        try {
            CudaDriver.eventRecord(e0, be.stream());
            for (int i = 0; i < reps; i++) close(op.get());
            CudaDriver.eventRecord(e1, be.stream());
            CudaDriver.eventSynchronize(e1);
            return CudaDriver.eventElapsedMs(e0, e1) / reps;
        } finally {
            CudaDriver.eventDestroy(e0);
            CudaDriver.eventDestroy(e1);
        }
    }

    private static void close(Tensor t) {
        if (t != null) t.close();
    }

    private Tensor rand(long... shape) {
        float[] d = new float[Math.toIntExact(Tensor.numel(shape))];
        for (int i = 0; i < d.length; i++) d[i] = (float) rnd.nextGaussian();
        return Tensor.of(d, shape);
    }

    /** Random values in native read-only memory, which the backend treats as a weight (half in fp16/bf16 mode). */
    private Tensor weight(long... shape) {
        Tensor t = rand(shape);
        MemorySegment seg = Arena.ofAuto().allocate(t.numel() * 4, 64);
        MemorySegment.copy(t.toFloatArray(), 0, seg, Tensor.F32, 0, Math.toIntExact(t.numel()));
        return Tensor.wrap(seg.asReadOnly(), DType.F32, shape);
    }
}
