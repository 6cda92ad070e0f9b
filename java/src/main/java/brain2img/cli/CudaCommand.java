package brain2img.cli;

import brain2img.backend.Backends;
import brain2img.cuda.CudaBackend;
import brain2img.cuda.CudaBench;
import brain2img.cuda.CudaProbe;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code brain2img cuda info|bench}: what the CUDA backend sees here, and how fast its building blocks run. */
@Command(name = "cuda", mixinStandardHelpOptions = true,
        description = "Inspect and benchmark the CUDA backend.",
        subcommands = {CudaCommand.Info.class, CudaCommand.Bench.class},
        footer = {"", "Example:", "  ./brain2img cuda info"})
public final class CudaCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "info", mixinStandardHelpOptions = true,
            description = "Print the CUDA device, driver and libraries, or why the backend is unavailable (exit 1).",
            footer = {"", "Example:", "  ./brain2img cuda info"})
    static final class Info implements Callable<Integer> {
        @Override
        public Integer call() {
            String why = Backends.cudaUnavailableReason();
            if (why != null) {
                System.out.println("CUDA unavailable: " + why);
                return 1;
            }
            try (CudaBackend be = new CudaBackend()) {
                System.out.println(be.describe());
                System.out.println("device ordinal " + CudaProbe.deviceOrdinal() + " (-D" + CudaProbe.DEVICE_PROPERTY + ")");
            }
            return 0;
        }
    }

    @Command(name = "bench", mixinStandardHelpOptions = true,
            description = "Time cuBLAS GEMMs (fp32/tf32/fp16/bf16), attention, conv and group norm at SD v1 shapes.",
            footer = {"", "Example:", "  ./brain2img cuda bench --reps 20"})
    static final class Bench implements Callable<Integer> {
        @Option(names = "--reps", defaultValue = "20", description = "Timed launches per operation (default: ${DEFAULT-VALUE}).")
        int reps;

        @Override
        public Integer call() {
            if (reps < 1) throw new Main.UsageException("--reps must be at least 1, got " + reps);
            String why = Backends.cudaUnavailableReason();
            if (why != null) throw new IllegalStateException("CUDA backend unavailable: " + why);
            new CudaBench(System.out, reps).run();
            return 0;
        }
    }
}
