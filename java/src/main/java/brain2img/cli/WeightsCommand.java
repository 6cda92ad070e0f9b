package brain2img.cli;

import brain2img.io.TensorFile;
import brain2img.io.WeightFile;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

@Command(name = "weights", description = "Inspect weight files.",
        subcommands = WeightsCommand.Inspect.class, mixinStandardHelpOptions = true,
        footer = {"", "Example:", "  brain2img weights inspect weights/sd-v1-4 --summary"})
public final class WeightsCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "inspect", mixinStandardHelpOptions = true,
            description = "List the tensors of a safetensors file, a PyTorch checkpoint (.pth, .pt, .pth.tar, .bin, .ckpt), a sharded index, or every weight file under a folder (name, dtype, shape, totals).",
            footer = {"", "Examples:",
                    "  brain2img weights inspect weights/sd-v1-4/unet",
                    "  brain2img weights inspect v1-5-pruned-emaonly.safetensors --summary",
                    "  brain2img weights inspect alexnet-owt-7be5be79.pth",
                    "  brain2img weights inspect swav_800ep_pretrain.pth.tar --dict state_dict"})
    static final class Inspect implements Callable<Integer> {
        @Parameters(paramLabel = "PATH", description = "A .safetensors file, a PyTorch checkpoint, an .index.json, or a folder (searched recursively).")
        Path path;

        @Option(names = "--dict", paramLabel = "KEY", description = "For PyTorch checkpoints: the dict holding the tensors (dotted path; \"\" for the top level). Default: the top level, or its state_dict/model entry when the top level holds no tensor.")
        String dict;

        @Option(names = "--summary", description = "Only the totals per file.")
        boolean summary;

        @Override
        public Integer call() throws IOException {
            List<Path> targets = targets(path);
            if (targets.isEmpty()) throw new Main.UsageException(path + ": no .safetensors files or PyTorch checkpoints found");
            for (Path p : targets) {
                boolean torch = dict != null && !p.getFileName().toString().endsWith(".json") && brain2img.io.torch.TorchFile.detect(p) != null;
                try (WeightFile w = torch ? WeightFile.openTorch(p, dict) : WeightFile.open(p)) {
                    print(w);
                }
            }
            return 0;
        }

        private static List<Path> targets(Path path) throws IOException {
            if (!Files.exists(path)) throw new Main.UsageException(path + ": no such file or folder");
            if (!Files.isDirectory(path)) return List.of(path);
            List<Path> out = new ArrayList<>();
            try (Stream<Path> s = Files.walk(path)) {
                List<Path> all = s.filter(Files::isRegularFile).sorted().toList();
                for (Path p : all) {
                    String n = p.getFileName().toString();
                    if (n.endsWith(".safetensors.index.json") || n.endsWith(".bin.index.json")) out.add(p);
                }
                List<Path> indexes = List.copyOf(out);
                for (Path p : all) {
                    String n = p.getFileName().toString();
                    // shards listed by an index are shown through it
                    boolean sharded = indexes.stream().anyMatch(i -> i.getParent().equals(p.getParent()));
                    if ((n.endsWith(".safetensors") || WeightFile.isTorchName(n)) && !sharded) out.add(p);
                }
            }
            return out;
        }

        private void print(WeightFile w) {
            System.out.println("== " + w.source());
            Map<DType, long[]> totals = new EnumMap<>(DType.class); // dtype -> {tensors, elements}
            long bytes = 0;
            for (String name : w.names()) {
                DType dtype = w.dtype(name);
                long[] shape = w.shape(name);
                long n = Tensor.numel(shape);
                long[] t = totals.computeIfAbsent(dtype, k -> new long[2]);
                t[0]++;
                t[1] += n;
                bytes += n * dtype.bytes;
                if (!summary) System.out.printf("%-90s %-5s %s%n", name, dtype.lower(), Arrays.toString(shape));
            }
            long tensors = 0, params = 0;
            for (Map.Entry<DType, long[]> e : totals.entrySet()) {
                System.out.printf("  %s: %d tensors, %,d values%n", e.getKey().lower(), e.getValue()[0], e.getValue()[1]);
                tensors += e.getValue()[0];
                params += e.getValue()[1];
            }
            System.out.printf("  total: %d tensors, %,d values, %,d bytes%n", tensors, params, bytes);
            for (TensorFile f : w.files()) {
                if (!f.metadata().isEmpty()) System.out.println("  metadata (" + f.file().getFileName() + "): " + f.metadata());
            }
        }
    }
}
