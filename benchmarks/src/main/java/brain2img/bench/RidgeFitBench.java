package brain2img.bench;

import brain2img.backend.CpuBackend;
import brain2img.ridge.CpuDenseLinAlg;
import brain2img.ridge.RidgeBench;
import brain2img.ridge.RidgeCV;
import brain2img.ridge.RidgeModel;
import brain2img.ridge.RidgeOptions;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * {@link RidgeCV#fit} on the problem (n=4000, p=2000, t=6400, 7 alphas, 5 folds, f32) as one shot per
 * iteration; GFLOP/s = {@link RidgeBench#engineFlops} / time. {@code brain2img ridge bench} prints the same with
 * the naive reference beside it. Run: {@code java -jar benchmarks/target/benchmarks.jar RidgeFitBench}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx8g"})
public class RidgeFitBench {
    @Param({"4000"}) int n;
    @Param({"2000"}) int p;
    @Param({"6400"}) int t;

    Tensor x, y;
    RidgeOptions opt;

    @Setup
    public void setup() {
        Tensor[] xy = RidgeBench.problem(CpuDenseLinAlg.best(), n, p, t, DType.F32);
        x = xy[0];
        y = xy[1];
        double[] alphas = new double[7];
        for (int i = 0; i < 7; i++) alphas[i] = Math.pow(10, -2 + i);
        opt = RidgeOptions.defaults(alphas);
    }

    @Benchmark
    public RidgeModel fit() {
        return RidgeCV.fit(new CpuBackend(), x, y, opt, null);
    }
}
