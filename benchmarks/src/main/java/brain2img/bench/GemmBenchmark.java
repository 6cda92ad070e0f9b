package brain2img.bench;

import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * CPU backend GEMM and 3×3 convolution throughput. Each run prints the FLOP count so the achieved GFLOP/s
 * is visible: GFLOP/s = flop / (ms · 1e6).
 *
 * <pre>java -jar benchmarks/target/benchmarks.jar GemmBenchmark</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx4g"})
public class GemmBenchmark {
    /** Square GEMM size n (n×n · n×n). */
    @Param({"256", "1024"})
    int n;

    private final Backend be = new CpuBackend();
    private Tensor a, b, x, w;

    @Setup(Level.Trial)
    public void setUp() {
        Random r = new Random(1);
        a = random(r, n, n);
        b = random(r, n, n);
        // an SD U-Net 3×3 convolution at the 32×32 level: 640 → 640 channels
        x = random(r, 1, 640, 32, 32);
        w = random(r, 640, 640, 3, 3);
        System.out.printf("%n[gemm n=%d: %.3f GFLOP; conv 640→640 3×3 at 32×32: %.3f GFLOP]%n",
                n, 2.0 * n * n * n / 1e9, 2.0 * 640 * 640 * 9 * 32 * 32 / 1e9);
    }

    @TearDown(Level.Trial)
    public void describe() {
        System.out.println("[" + be.describe() + "]");
    }

    private static Tensor random(Random r, long... shape) {
        float[] d = new float[(int) Tensor.numel(shape)];
        for (int i = 0; i < d.length; i++) d[i] = (float) r.nextGaussian();
        return Tensor.of(d, shape);
    }

    @Benchmark
    public Tensor gemm() {
        return be.matmul(a, b);
    }

    @Benchmark
    public Tensor conv3x3() {
        return be.conv2d(x, w, null, 1, 1, 1, 1, 1, 1);
    }
}
