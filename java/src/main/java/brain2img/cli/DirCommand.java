package brain2img.cli;

import brain2img.backend.Backend;
import brain2img.dir.DeepSimGenerator;
import brain2img.dir.DirRun;
import brain2img.dir.FeatureLoss;
import brain2img.dir.PixelSpace;
import brain2img.dir.Reconstructor;
import brain2img.io.FormatException;
import brain2img.io.Images;
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
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/** {@code brain2img dir fit|decode|reconstruct}: Shen et al.'s deep image reconstruction. */
@Command(name = "dir", mixinStandardHelpOptions = true,
        description = "Deep image reconstruction (Shen et al. 2019): VGG19 feature decoding and image optimisation.",
        subcommands = {DirCommand.Fit.class, DirCommand.Decode.class, DirCommand.Reconstruct.class},
        footer = {"", "Example:", "  brain2img dir fit --data data/digits --out runs/dir --arch vgg19-caffe --weights vgg19.safetensors"})
public final class DirCommand {

    @Command(name = "fit", mixinStandardHelpOptions = true,
            description = "VGG19 features of every stimulus, then one decoder per unit (blocks of units, bounded memory).",
            footer = {"", "Example:", "  brain2img dir fit --data data/digits --out runs/dir --arch vgg19 --weights vgg19.safetensors \\",
                    "      --decoder ridgecv --layers features.0,classifier.6"})
    static final class Fit implements Callable<Integer> {
        @Option(names = "--data", required = true, paramLabel = "DIR", description = "Data set folder.")
        Path data;
        @Option(names = "--out", required = true, paramLabel = "RUN", description = "Run folder.")
        Path out;
        @Option(names = "--arch", required = true, paramLabel = "vgg19|vgg19-caffe", description = "Network naming and input convention.")
        String arch;
        @Option(names = "--weights", required = true, paramLabel = "W", description = "VGG19 weights (.safetensors).")
        Path weights;
        @Option(names = "--layers", split = ",", paramLabel = "L1,L2", description = "Layers to decode (default: all 19 conv/fc layers, pre-ReLU).")
        List<String> layers;
        @Option(names = "--decoder", defaultValue = "top-voxels", paramLabel = "top-voxels|ridgecv",
                description = "top-voxels: per unit the k voxels of largest |r|, ridge alpha (the lab's recipe); ridgecv: all voxels, alpha per unit by grouped CV (default: ${DEFAULT-VALUE}).")
        String decoder;
        @Option(names = "--roi", paramLabel = "NAME", description = "Voxels the decoder reads (default: all).")
        String roi;
        @Option(names = "--voxels", defaultValue = "500", paramLabel = "K", description = "top-voxels: voxels per unit (default: ${DEFAULT-VALUE}).")
        int voxels;
        @Option(names = "--alpha", defaultValue = "100", paramLabel = "A", description = "top-voxels: ridge penalty (default: ${DEFAULT-VALUE}).")
        double alpha;
        @Option(names = "--alphas", split = ",", paramLabel = "A,B", description = "ridgecv: alpha grid (default: 1e4,2e4,4e4).")
        double[] alphas;
        @Option(names = "--folds", defaultValue = "5", paramLabel = "K", description = "ridgecv: CV folds, grouped by image (default: ${DEFAULT-VALUE}).")
        int folds;
        @Option(names = "--batch", defaultValue = "8", paramLabel = "N", description = "Images per forward pass (default: ${DEFAULT-VALUE}).")
        int batch;
        @Mixin
        DeviceOption device;

        @Override
        public Integer call() throws IOException {
            if (!arch.equals("vgg19") && !arch.equals("vgg19-caffe")) throw new Main.UsageException("--arch must be vgg19 or vgg19-caffe, got " + arch);
            if (!Files.isRegularFile(weights)) throw new Main.UsageException("--weights: no file " + weights);
            DirRun.Settings s;
            try {
                s = new DirRun.Settings(data, arch, weights, layers, decoder, roi, voxels, alpha,
                        alphas == null ? DirRun.RIDGECV_ALPHAS : alphas, folds, batch);
            } catch (IllegalArgumentException e) {
                throw new Main.UsageException(e.getMessage());
            }
            try (Backend be = device.open()) {
                DirRun.fit(s, out, be, System.out::println);
            }
            return 0;
        }
    }

    @Command(name = "decode", mixinStandardHelpOptions = true,
            description = "Decoded, rescaled features of the test images (responses averaged over repetitions): RUN/decoded/<layer>.npy.",
            footer = {"", "Example:", "  brain2img dir decode --out runs/dir"})
    static final class Decode implements Callable<Integer> {
        @Option(names = "--out", required = true, paramLabel = "RUN", description = "Run folder of `dir fit`.")
        Path out;

        @Override
        public Integer call() throws IOException {
            DirRun.decode(out, System.out::println);
            return 0;
        }
    }

    @Command(name = "reconstruct", mixinStandardHelpOptions = true,
            description = "Images whose network features match DIR/<node>.npy: pixel optimisation (gd, lbfgs) or the deepsim generator's latent.",
            footer = {"", "Example:", "  brain2img dir reconstruct --features runs/dir/decoded --arch vgg19-caffe --weights vgg19.safetensors \\",
                    "      --optimizer lbfgs --iterations 200 --out recon.npy --png recon"})
    static final class Reconstruct implements Callable<Integer> {
        @Option(names = "--features", required = true, paramLabel = "DIR", description = "DIR/<node>.npy: (N, …) features per node, decoded or true.")
        Path features;
        @Option(names = "--arch", required = true, paramLabel = "ARCH", description = "vgg19 or vgg19-caffe (any `nets list` architecture works).")
        String arch;
        @Option(names = "--weights", required = true, paramLabel = "W", description = "Network weights.")
        Path weights;
        @Option(names = "--layers", split = ",", paramLabel = "L1,L2", description = "Nodes to match (default: every node with a file in DIR).")
        List<String> layers;
        @Option(names = "--generator", paramLabel = "G", description = "deepsim fc7 generator weights: optimise its latent instead of pixels (vgg19-caffe).")
        Path generator;
        @Option(names = "--latent-upper", paramLabel = "UB.npy", description = "Per-unit upper bound of the latent (default: the max of ReLU(fc7) in DIR).")
        Path latentUpper;
        @Option(names = "--optimizer", defaultValue = "gd", paramLabel = "gd|lbfgs", description = "Pixel optimiser (default: ${DEFAULT-VALUE}).")
        String optimizer;
        @Option(names = "--iterations", defaultValue = "200", paramLabel = "N", description = "Iterations (default: ${DEFAULT-VALUE}).")
        int iterations;
        @Option(names = "--seed", defaultValue = "0", paramLabel = "K", description = "Seed of the start image's noise (with --init-noise).")
        long seed;
        @Option(names = "--init-noise", defaultValue = "0", paramLabel = "A", description = "Uniform noise ±A (0–255 units) on the mean-grey start (default: 0).")
        double initNoise;
        @Option(names = "--batch", defaultValue = "8", paramLabel = "N", description = "Images per batch (resume unit) (default: ${DEFAULT-VALUE}).")
        int batch;
        @Option(names = "--out", required = true, paramLabel = "OUT.npy", description = "float32 (N,3,H,W) in the network's input space.")
        Path out;
        @Option(names = "--png", paramLabel = "PNGDIR", description = "Also write PNGs (RGB, clipped to [0,1]).")
        Path png;
        @Mixin
        DeviceOption device;

        @Override
        public Integer call() throws IOException {
            if (!Files.isDirectory(features)) throw new Main.UsageException("--features: no folder " + features);
            if (!VisionNets.archs().contains(arch)) throw new Main.UsageException("--arch: unknown '" + arch + "' (known: " + String.join(", ", VisionNets.archs()) + ")");
            if (!optimizer.equals("gd") && !optimizer.equals("lbfgs")) throw new Main.UsageException("--optimizer must be gd or lbfgs, got " + optimizer);
            try (Backend be = device.open(); VisionNet net = VisionNets.open(arch, weights, null, be)) {
                List<String> nodes = layers != null ? layers : net.nodes().stream().filter(n -> Files.isRegularFile(features.resolve(n + ".npy"))).toList();
                if (nodes.isEmpty()) throw new Main.UsageException("--features: " + features + " has no <node>.npy for " + arch);
                Map<String, Tensor> targets = new LinkedHashMap<>();
                for (String n : nodes) {
                    Path f = features.resolve(n + ".npy");
                    if (!Files.isRegularFile(f)) throw new Main.UsageException("--layers: no features file " + f);
                    targets.put(n, Npy.read(f).toF32());
                }
                int size = inputSize(net, targets);
                FeatureLoss loss = new FeatureLoss(net, targets);
                Reconstructor.Options opt = new Reconstructor.Options(optimizer.equals("gd") ? Reconstructor.Method.GD : Reconstructor.Method.LBFGS,
                        iterations, batch, seed, initNoise, 10);
                Path parts = out.resolveSibling("." + out.getFileName() + ".parts");
                Files.createDirectories(parts);
                Tensor result;
                if (generator != null) {
                    try (DeepSimGenerator g = new DeepSimGenerator(generator, be)) {
                        result = new Reconstructor(net, loss, opt, System.out::println, g, upper(g.latent(), targets)).run(size, parts);
                    }
                } else {
                    result = new Reconstructor(net, loss, opt, System.out::println).run(size, parts);
                }
                Npy.write(out, result);
                if (png != null) writePngs(net.inputSpace(), result, png);
                try (Stream<Path> s = Files.walk(parts)) {
                    for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
                }
                System.out.println("wrote " + out + " " + result.shapeString());
            }
            return 0;
        }

        /** The input side whose features have the targets' shapes: the net's own size, rescaled by the first spatial node. */
        private static int inputSize(VisionNet net, Map<String, Tensor> targets) {
            int s = net.inputSpace().size();
            String spatial = targets.entrySet().stream().filter(e -> e.getValue().rank() == 4).map(Map.Entry::getKey).findFirst().orElse(null);
            if (spatial == null) return s;
            int want = targets.get(spatial).dimInt(2);
            for (int attempt = 0; attempt < 3; attempt++) {
                int got = net.features(Tensor.zeros(1, 3, s, s), List.of(spatial)).get(spatial).dimInt(2);
                if (got == want) return s;
                s = (int) Math.round((double) s * want / got);
            }
            throw new FormatException(spatial + ": no input size gives features of side " + want);
        }

        private float[] upper(int latent, Map<String, Tensor> targets) {
            Tensor ub;
            if (latentUpper != null) {
                ub = Npy.read(latentUpper);
            } else {
                Tensor fc7 = targets.containsKey("fc7") ? targets.get("fc7") : targets.get("classifier.3");
                if (fc7 == null) throw new Main.UsageException("--generator needs --latent-upper, or fc7 features in --features to take the range from");
                float[] v = fc7.toFloatArray(), m = new float[fc7.dimInt(1)];
                for (int i = 0; i < v.length; i++) m[i % m.length] = Math.max(m[i % m.length], v[i]); // ReLU: max ≥ 0
                ub = Tensor.of(m, m.length);
            }
            if (ub.numel() != latent) throw new FormatException("latent upper bound has " + ub.numel() + " values, the generator's latent " + latent);
            return ub.toFloatArray();
        }

        private static void writePngs(VisionNet.InputSpace sp, Tensor x, Path dir) throws IOException {
            int n = x.dimInt(0), h = x.dimInt(2), w = x.dimInt(3), plane = h * w;
            float[] rgb = PixelSpace.rgb01(sp, x.toFloatArray(), plane);
            for (int i = 0; i < n; i++) {
                float[] img = new float[3 * plane];
                for (int j = 0; j < img.length; j++) img[j] = 2 * rgb[i * 3 * plane + j] - 1; // Images wants [-1,1]
                Images.write(dir.resolve(String.format("%04d.png", i)), Tensor.of(img, 3, h, w));
            }
        }
    }
}
