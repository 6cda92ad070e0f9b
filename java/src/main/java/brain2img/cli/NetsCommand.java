package brain2img.cli;

import brain2img.backend.Backend;
import brain2img.io.FormatException;
import brain2img.io.Npy;
import brain2img.tensor.Tensor;
import brain2img.vision.VisionNet;
import brain2img.vision.VisionNets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code brain2img nets features|grad|list}: the image networks of the metric suite and of Shen et al. */
@Command(name = "nets", mixinStandardHelpOptions = true,
        description = "Image networks (AlexNet, VGG19, Inception v3, ResNet-50/SwAV, EfficientNet-B1): node features and input gradients.",
        subcommands = {NetsCommand.Features.class, NetsCommand.Grad.class, NetsCommand.ListNets.class},
        footer = {"", "Example:", "  brain2img nets features --arch vgg19 --weights vgg19.safetensors --images x.npy --layers features.34 --out feats"})
public final class NetsCommand {

    /** Options every network command shares. */
    static final class NetOptions {
        @Option(names = "--arch", required = true, paramLabel = "ARCH", description = "Architecture (see `nets list`).")
        String arch;
        @Option(names = "--weights", required = true, paramLabel = "FILE", description = "Weight file (.safetensors).")
        Path weights;
        @Option(names = "--config", paramLabel = "FILE", description = "Architecture config, where the architecture has one.")
        Path config;
        @Option(names = "--images", required = true, paramLabel = "X.npy",
                description = "float32 (N,3,H,W), already in the network's input space.")
        Path images;
        @Option(names = "--layers", required = true, split = ",", paramLabel = "A,B", description = "Node names.")
        List<String> layers;

        Tensor readImages() {
            if (!Files.isRegularFile(images)) throw new Main.UsageException("--images: no file " + images);
            Tensor x = Npy.read(images);
            if (x.rank() != 4 || x.dim(1) != 3) throw new FormatException(images + ": expected (N,3,H,W), got " + x.shapeString());
            return x.toF32();
        }

        void checkArch() {
            if (!VisionNets.archs().contains(arch)) {
                throw new Main.UsageException("--arch: unknown '" + arch + "' (known: " + String.join(", ", VisionNets.archs()) + ")");
            }
        }
    }

    @Command(name = "features", mixinStandardHelpOptions = true,
            description = "Writes DIR/<node>.npy (float32, torch's shape for the node) for each node.",
            footer = {"", "Example:", "  brain2img nets features --arch alexnet --weights alexnet.safetensors --images x.npy \\",
                    "      --layers features.4,features.11 --out feats --batch 16"})
    static final class Features implements Callable<Integer> {
        @Mixin
        NetOptions net;
        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder.")
        Path out;
        @Option(names = "--batch", defaultValue = "16", paramLabel = "N", description = "Images per forward pass (default: ${DEFAULT-VALUE}).")
        int batch;
        @Mixin
        DeviceOption device;

        @Override
        public Integer call() throws IOException {
            net.checkArch();
            if (batch < 1) throw new Main.UsageException("--batch must be at least 1");
            Tensor x = net.readImages();
            try (Backend be = device.open(); VisionNet n = VisionNets.open(net.arch, net.weights, net.config, be)) {
                Map<String, List<Tensor>> parts = new LinkedHashMap<>();
                for (long i = 0; i < x.dim(0); i += batch) {
                    Map<String, Tensor> f = n.features(x.slice(i, Math.min(x.dim(0), i + batch)), net.layers);
                    f.forEach((k, v) -> parts.computeIfAbsent(k, q -> new ArrayList<>()).add(be.download(v)));
                }
                Files.createDirectories(out);
                for (Map.Entry<String, List<Tensor>> e : parts.entrySet()) {
                    Tensor all = concatRows(e.getValue());
                    Npy.write(out.resolve(e.getKey() + ".npy"), all);
                    System.out.println(e.getKey() + " " + all.shapeString());
                }
            }
            return 0;
        }
    }

    /** Stacks tensors along their first dimension. */
    static Tensor concatRows(List<Tensor> parts) {
        if (parts.size() == 1) return parts.get(0);
        long rows = parts.stream().mapToLong(p -> p.dim(0)).sum();
        long[] s = parts.get(0).shape();
        s[0] = rows;
        float[] all = new float[Math.toIntExact(Tensor.numel(s))];
        int off = 0;
        for (Tensor p : parts) {
            float[] f = p.floats();
            System.arraycopy(f, 0, all, off, f.length);
            off += f.length;
        }
        return Tensor.of(all, s);
    }

    @Command(name = "grad", mixinStandardHelpOptions = true,
            description = "Writes dL/dx (same shape as X) for L = sum_l w_l ||phi_l(x) - t_l||^2 and prints L.",
            footer = {"", "Example:", "  brain2img nets grad --arch vgg19-caffe --weights vgg19-caffe.safetensors --images x.npy \\",
                    "      --targets feats --layers conv5_4,fc8 --layer-weights 0.5,0.5 --out g.npy"})
    static final class Grad implements Callable<Integer> {
        @Mixin
        NetOptions net;
        @Option(names = "--targets", required = true, paramLabel = "DIR", description = "Folder with <node>.npy targets t_l.")
        Path targets;
        @Option(names = "--layer-weights", split = ",", paramLabel = "w1,w2", description = "w_l per layer (default: all 1).")
        List<Double> layerWeights;
        @Option(names = "--out", required = true, paramLabel = "G.npy", description = "Output gradient file.")
        Path out;
        @Mixin
        DeviceOption device;

        @Override
        public Integer call() throws IOException {
            net.checkArch();
            if (layerWeights != null && layerWeights.size() != net.layers.size()) {
                throw new Main.UsageException("--layer-weights has " + layerWeights.size() + " values for " + net.layers.size() + " layers");
            }
            Tensor x = net.readImages();
            Map<String, Tensor> t = new LinkedHashMap<>();
            Map<String, Double> w = new LinkedHashMap<>();
            for (int i = 0; i < net.layers.size(); i++) {
                String n = net.layers.get(i);
                Path f = targets.resolve(n + ".npy");
                if (!Files.isRegularFile(f)) throw new Main.UsageException("--targets: no " + f);
                t.put(n, Npy.read(f).toF32());
                w.put(n, layerWeights == null ? 1.0 : layerWeights.get(i));
            }
            try (Backend be = device.open(); VisionNet n = VisionNets.open(net.arch, net.weights, net.config, be)) {
                VisionNet.LossGradient lg = n.lossGradient(x, t, w);
                Npy.write(out, lg.gradient());
                System.out.println("L " + lg.loss());
            }
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Lists the architectures and their node names (at standard size).",
            footer = {"", "Example:", "  brain2img nets list"})
    static final class ListNets implements Callable<Integer> {
        @Override
        public Integer call() {
            for (String a : VisionNets.archs()) System.out.println(a + ": " + String.join(" ", VisionNets.nodes(a)));
            return 0;
        }
    }
}
