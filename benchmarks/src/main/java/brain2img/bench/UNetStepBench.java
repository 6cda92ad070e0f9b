package brain2img.bench;

import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.sd.RandomWeights;
import brain2img.sd.UNet;
import brain2img.sd.UNetConfig;
import brain2img.sd.UNetFlops;
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
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One CPU U-Net step (batch 1, 77-token context) with random weights; the setup prints the analytic FLOP
 * count per step so GFLOP/s = GFLOP / seconds per op.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar UNetStepBench.tiny
 * java -jar benchmarks/target/benchmarks.jar UNetStepBench.v1     # SD v1.4 size at 64×64: one shot, ~4 GB heap
 * </pre>
 */
public class UNetStepBench {

    /** Weights and inputs for one model and latent size. */
    public abstract static class Inputs {
        UNet unet;
        Tensor latent, context;
        final float[] t = {981f};

        void setup(String model, int size) {
            UNetConfig cfg = RandomWeights.unetConfig(model);
            Backend be = new CpuBackend();
            UNetFlops.Count c = UNetFlops.of(cfg, size, size, 77);
            System.out.printf("%n[%s U-Net, %dx%d latent, batch 1] %.3f GFLOP per step (%.1f%% in attention products)%n",
                    model, size, size, c.total() / 1e9, 100.0 * c.attention() / c.total());
            unet = RandomWeights.unet(cfg, be, 42);
            SplittableRandom r = new SplittableRandom(7);
            latent = gaussian(r, 1, cfg.inChannels(), size, size);
            context = gaussian(r, 1, 77, cfg.crossAttentionDim());
        }

        private static Tensor gaussian(SplittableRandom r, long... shape) {
            float[] d = new float[Math.toIntExact(Tensor.numel(shape))];
            for (int i = 0; i < d.length; i++) d[i] = (float) (r.nextDouble(-1.7, 1.7));
            return Tensor.of(d, shape);
        }
    }

    @State(Scope.Benchmark)
    public static class Tiny extends Inputs {
        /** The goldens' latent size. */
        @Param({"8"})
        int size;

        @Setup(Level.Trial)
        public void setup() { setup("tiny", size); }
    }

    @State(Scope.Benchmark)
    public static class V1 extends Inputs {
        @Param({"64"})
        int size;

        @Setup(Level.Trial)
        public void setup() { setup("v1", size); }
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 3, time = 2)
    @Measurement(iterations = 5, time = 2)
    @Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx2g"})
    public Tensor tiny(Tiny s) {
        return s.unet.predict(s.latent, s.t, s.context);
    }

    /** Single shot: the 860M-parameter model needs ~3.4 GB of weights and takes tens of seconds per step on a few cores. */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Warmup(iterations = 0)
    @Measurement(iterations = 1)
    @Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx6g"})
    public Tensor v1(V1 s) {
        return s.unet.predict(s.latent, s.t, s.context);
    }
}
