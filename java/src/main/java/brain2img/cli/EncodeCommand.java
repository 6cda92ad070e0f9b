package brain2img.cli;

import brain2img.backend.Backend;
import brain2img.data.Dataset;
import brain2img.encode.EncodeRun;
import brain2img.encode.EncodingModel;
import brain2img.encode.FeatureSettings;
import brain2img.encode.Space;
import brain2img.encode.VisionNetLoader;
import brain2img.eval.Stats;
import brain2img.report.EncodeReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code brain2img encode}: voxel-wise encoding models — which feature space explains which voxels. */
@Command(name = "encode", mixinStandardHelpOptions = true,
        description = {"Voxel-wise encoding analysis: predict every voxel from each feature space (ridge, per-voxel alpha by CV grouped by image),",
                "test on the test images averaged over repetitions; r, R², p, BH-FDR q, noise-ceiling-normalised r per voxel; unique variance",
                "(z vs c, U-Net vs z) from banded joint models; maps/*.npy, NIfTI maps, roi_summary.csv, report.html in RUN.",
                "Spaces: pixels, z, c, zc@S, unet:NODE@T (NODE conv_in|down_blocks.i|mid_block|up_blocks.i, T early|middle|late|0-999), net:ARCH:NODE."},
        footer = {"", "Examples:",
                "  brain2img data synth --out data/synth --images 400 --voxels 300 --seed 9 --image-size 32",
                "  brain2img encode --data data/synth --out runs/encode --spaces pixels,z,c,unet:mid_block@middle \\",
                "      --weights ../shared/golden/sd-tiny/weights --sd-size 64"})
public final class EncodeCommand implements Callable<Integer> {
    /** Opens the vision networks of net: spaces; at the merge with the vision branch this becomes VisionNets::open. */
    static final VisionNetLoader NETS = brain2img.vision.VisionNets::open;

    @Option(names = "--data", required = true, paramLabel = "DIR", description = "Data set folder.")
    Path data;
    @Option(names = "--out", required = true, paramLabel = "RUN", description = "Output folder (features cache, maps, NIfTI, roi_summary.csv, report.html).")
    Path out;
    @Option(names = "--spaces", required = true, split = ",", paramLabel = "S", description = "Feature spaces, comma-separated.")
    List<String> spaces;
    @Option(names = "--weights", paramLabel = "SD", description = "Stable Diffusion weights (for z, c, zc@S, unet:).")
    Path weights;
    @Option(names = "--nets", paramLabel = "DIR", description = "Vision network weights (for net:ARCH:NODE): DIR/ARCH or DIR/ARCH.{safetensors,pth,pt}.")
    Path nets;
    @Option(names = "--rois", split = ",", paramLabel = "NAME", description = "Analyse only the voxels of these ROIs (default: all voxels).")
    List<String> rois = new ArrayList<>();
    @Option(names = "--sd-size", defaultValue = "320", paramLabel = "S", description = "Image side for z (VAE latent 4×S/8×S/8; default: ${DEFAULT-VALUE}).")
    int sdSize;
    @Option(names = "--sd-steps", defaultValue = "50", paramLabel = "N", description = "DDIM steps of zc@S's img2img (default: ${DEFAULT-VALUE}).")
    int sdSteps;
    @Option(names = "--guidance", defaultValue = "5", description = "Guidance of zc@S's img2img (default: ${DEFAULT-VALUE}).")
    double guidance;
    @Option(names = "--pixel-size", paramLabel = "S", description = "Side of the pixels space (default: the stimulus side, at most 32).")
    Integer pixelSize;
    @Option(names = "--alphas", split = ",", paramLabel = "A", description = "Ridge alpha grid on √p-normalised features (default: 1e-2,1e-1,...,1e5).")
    double[] alphas;
    @Option(names = "--folds", defaultValue = "5", description = "CV folds over image ids (default: ${DEFAULT-VALUE}).")
    int folds;
    @Option(names = "--permutations", defaultValue = "0", paramLabel = "N",
            description = "p-values from N permutations of the test images; 0 = one-sided t test of r (default: ${DEFAULT-VALUE}).")
    int permutations;
    @Option(names = "--no-unique", description = "Skip the banded joint models (unique variance of z vs c and U-Net vs z).")
    boolean noUnique;
    @Option(names = "--seed", defaultValue = "42", description = "Seed of the SD noise and the permutations (default: ${DEFAULT-VALUE}).")
    long seed;
    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws IOException {
        List<Space> parsed;
        try {
            parsed = EncodeRun.parseSpaces(spaces);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
        if (weights == null && parsed.stream().anyMatch(Space::needsSd)) {
            throw new Main.UsageException("--weights SD is required for the spaces " + parsed.stream().filter(Space::needsSd).map(Space::name).toList());
        }
        if (folds < 2 || permutations < 0) throw new Main.UsageException("--folds must be ≥ 2 and --permutations ≥ 0");
        Dataset ds = Dataset.open(data);
        int pix = pixelSize != null ? pixelSize : Math.min(32, ds.imageSize()[1]);
        EncodingModel.Options defaults = EncodingModel.Options.defaults();
        EncodingModel.Options model = new EncodingModel.Options(alphas != null ? alphas : defaults.alphas(), folds, defaults.bandRatios(), false);
        FeatureSettings fs = new FeatureSettings(weights, nets, sdSize, sdSteps, guidance, seed, pix);
        EncodeRun.Options o = new EncodeRun.Options(parsed, rois, fs, model, permutations, seed, !noUnique);
        EncodeRun.Result r;
        try (Backend be = device.open()) {
            r = EncodeRun.run(ds, out, o, be, NETS, s -> System.err.println(s));
        }
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("data", data.toAbsolutePath());
        settings.put("spaces", String.join(", ", spaces));
        settings.put("rois", rois.isEmpty() ? "all voxels" : String.join(", ", rois));
        settings.put("p_value", permutations > 0 ? permutations + " permutations of the test images" : "one-sided t test of r");
        settings.put("alphas", java.util.Arrays.toString(model.alphas()));
        settings.put("folds", folds + " (grouped by image id)");
        settings.put("weights", weights == null ? "none" : weights.toString());
        settings.put("sd_size", sdSize);
        settings.put("seed", seed);
        EncodeReport.write(out.resolve("report.html"), r, settings);
        for (EncodeRun.SpaceMap m : r.maps()) {
            System.out.printf(Locale.ROOT, "%-24s median r %.3f, %d of %d voxels significant (q ≤ %.2f)%n", m.space().name(),
                    Stats.median(m.r()), m.significant(), m.r().length, EncodeRun.Q);
        }
        System.out.println("report: " + out.resolve("report.html"));
        return 0;
    }
}
