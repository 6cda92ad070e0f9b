package brain2img.cli;

import brain2img.backend.Backend;
import brain2img.vision.NetsBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code brain2img bench nets}: the image networks' throughput on random full-size weights. */
@Command(name = "nets", mixinStandardHelpOptions = true,
        description = "Forward images/s and GFLOP/s of each CNN at its metric input size, and VGG19 forward + input gradient over Shen's 19 layers (random full-size weights).",
        footer = {"", "Examples:", "  brain2img bench nets --device cpu",
                "  brain2img bench nets --archs vgg19-caffe --reps 3      # compare with benchmarks/vgg19_torch.py --reps 3"})
final class NetsBenchCommand implements Callable<Integer> {
    @Option(names = "--archs", split = ",", paramLabel = "A,B", description = "Architectures (default: all CNNs).")
    List<String> archs;
    @Option(names = "--batch", defaultValue = "1", paramLabel = "N", description = "Images per pass (default: ${DEFAULT-VALUE}).")
    int batch;
    @Option(names = "--reps", defaultValue = "2", paramLabel = "N", description = "Timed runs after the warm-up (default: ${DEFAULT-VALUE}).")
    int reps;
    @Option(names = "--warmup", defaultValue = "10", paramLabel = "N",
            description = "Untimed runs first, so the timed ones see the heap at the size a long optimisation settles at (default: ${DEFAULT-VALUE}).")
    int warmup;
    @Option(names = "--size", paramLabel = "S", description = "Input side for every network (default: each one's metric size).")
    Integer size;
    @Option(names = "--no-gradient", description = "Skip VGG19's forward + input gradient.")
    boolean noGradient;
    @Mixin
    DeviceOption device;

    @Override
    public Integer call() {
        List<String> a = archs != null ? archs : List.of("alexnet", "inception_v3", "efficientnet_b1", "resnet50", "vgg19", "vgg19-caffe");
        for (String n : a) {
            if (!NetsBench.METRIC_SIZE.containsKey(n)) throw new Main.UsageException("--archs: unknown CNN '" + n + "' (known: " + String.join(", ", NetsBench.METRIC_SIZE.keySet()) + ")");
        }
        if (batch < 1 || reps < 1 || warmup < 1 || (size != null && size < 32)) {
            throw new Main.UsageException("--batch, --reps and --warmup must be ≥ 1, --size ≥ 32");
        }
        try (Backend be = device.open()) {
            NetsBench.run(be, new NetsBench.Options(a, batch, warmup, reps, size, !noGradient), System.out);
        }
        return 0;
    }
}
