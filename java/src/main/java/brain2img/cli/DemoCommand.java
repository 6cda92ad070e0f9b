package brain2img.cli;

import brain2img.backend.Backend;
import brain2img.data.Synth;
import brain2img.eval.AuditResult;
import brain2img.pipeline.Pipeline;
import brain2img.pipeline.RunConfig;
import brain2img.pipeline.Stages;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** The README's main command: a synthetic data set through the whole pipeline and audit. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Synthetic data → ridge decoder → pixel reconstructions → audit against every null → report.html.",
        footer = {"", "Example:", "  ./brain2img demo            # writes runs/demo/run/report.html"})
public final class DemoCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "runs/demo", description = "Folder for the synthetic data and the run (default ${DEFAULT-VALUE}).")
    Path out;
    @Option(names = "--images", defaultValue = "400", description = "Synthetic images (10%% are test images, shown 3 times; default ${DEFAULT-VALUE}).")
    int images;
    @Option(names = "--voxels", defaultValue = "1500", description = "Simulated voxels (default ${DEFAULT-VALUE}).")
    int voxels;
    @Option(names = "--seed", defaultValue = "42", description = "Seed of the synthetic data and of the run (default ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--weights", defaultValue = "weights", description = "Stable Diffusion weights (diffusers folder); when present the demo also renders X_z, X_c, X_zc (default ${DEFAULT-VALUE}).")
    Path weights;
    @Option(names = "--sd-size", defaultValue = "320", description = "Image side of the SD renderings, a multiple of 8 (default ${DEFAULT-VALUE}, as Takagi's z).")
    int sdSize;
    @Option(names = "--sd-steps", defaultValue = "50", description = "DDIM steps of the SD renderings (default ${DEFAULT-VALUE}).")
    int sdSteps;
    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws IOException {
        Path data = out.resolve("data");
        RunConfig cfg = RunConfig.defaults(data, out.resolve("run")).withSeed(seed);
        // The backend first: an unusable --device fails before anything is written.
        try (Backend be = device.open()) {
            if (!Files.isRegularFile(data.resolve("dataset.json"))) {
                System.out.println("demo: generating a synthetic data set (" + images + " images, " + voxels + " voxels) in " + data);
                Synth.generate(data, Synth.Options.of(images, voxels, seed).withImageSize(32));
            }
            Pipeline p = new Pipeline(cfg, be, System.out::println);
            p.through(Pipeline.Stage.REPORT);
            AuditResult r = p.audit();
            if (r != null) summary(r);
        }
        System.out.println("demo: report " + cfg.out().resolve("report.html") + ", metrics " + cfg.out().resolve("metrics.json"));
        if (Files.isRegularFile(weights.resolve("model_index.json"))) {
            // Takagi's path on the same data: z, c, then X_z, X_c, X_zc (slow on a CPU at full SD size)
            RunConfig sd = RunConfig.defaults(data, out.resolve("run-sd")).withSeed(seed).withTargets("z,c").withWeights(weights)
                    .withSd(sdSize, sdSteps);
            System.out.println("demo: Stable Diffusion weights found in " + weights + ": also rendering X_z, X_c, X_zc into " + sd.out());
            try (Backend be = device.open(); Stages st = Stages.create(sd, be, System.out::println)) {
                st.through(Stages.Stage.REPORT);
            }
            System.out.println("demo: SD report " + sd.out().resolve("report.html"));
        } else {
            System.out.println("demo: no Stable Diffusion weights in " + weights + " (see weights/README.md): pixel reconstructions only");
        }
        return 0;
    }

    private static void summary(AuditResult r) {
        for (String m : new String[]{"pixcorr", "ssim", "twoway_pixel"}) {
            AuditResult.Summary s = r.summary(Pipeline.KIND, m);
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "demo: %-12s %.3f [%.3f, %.3f]", m, s.mean(), s.interval().low(), s.interval().high()));
            for (String nl : Pipeline.NULLS) {
                line.append(String.format(Locale.ROOT, "  %s %.3f", nl, r.summary("nulls." + nl, m).mean()));
                Double p = s.pValues().get(nl);
                if (p != null) line.append(String.format(Locale.ROOT, " (p %.1g)", p));
            }
            System.out.println(line);
        }
    }
}
