package brain2img.cli;

import brain2img.data.Dataset;
import brain2img.data.DatasetInfo;
import brain2img.data.DatasetWriter;
import brain2img.data.MatImporter;
import brain2img.data.NsdImporter;
import brain2img.data.Synth;
import brain2img.io.Json;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code brain2img data ...}: import, synthesise, inspect and average data sets. */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = "Data sets: import NSD or MAT files, generate a synthetic brain, inspect, average repeats.",
        subcommands = {DataCommand.ImportNsd.class, DataCommand.ImportMat.class, DataCommand.SynthCmd.class,
                DataCommand.Info.class, DataCommand.Average.class},
        footer = {"", "Example:", "  brain2img data synth --out data/synth --images 200 --voxels 500 --seed 1"})
public final class DataCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "import-nsd", mixinStandardHelpOptions = true,
            description = "Import one subject of a local NSD copy (betas_fithrf_GLMdenoise_RR, func1pt8mm) into a data set.",
            footer = {"", "Example:", "  brain2img data import-nsd --nsd /data/nsd --subject 1 --out data/nsd-subj01 --sessions 1-37 --rois nsdgeneral --zscore-sessions"})
    static final class ImportNsd implements Callable<Integer> {
        @Option(names = "--nsd", required = true, paramLabel = "ROOT", description = "NSD root (holding nsddata/, nsddata_betas/, nsddata_stimuli/).")
        Path root;
        @Option(names = "--subject", required = true, paramLabel = "N", description = "Subject 1..8.")
        int subject;
        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Data set directory to create.")
        Path out;
        @Option(names = "--sessions", paramLabel = "LIST", description = "Sessions, e.g. 1-37 or 1,3,5-8 (default: all in responses.tsv).")
        String sessions;
        @Option(names = "--rois", split = ",", paramLabel = "NAME", description = "ROIs selecting the voxels: atlas names (nsdgeneral, streams, prf-visualrois, ...) or labels (early, ventral, V1v, ...). Default: nsdgeneral.")
        List<String> rois = new ArrayList<>();
        @Option(names = "--zscore-sessions", description = "Z-score each voxel within each session.")
        boolean zscore;

        @Override
        public Integer call() throws IOException {
            Dataset d = NsdImporter.run(new NsdImporter.Options(root, subject, parseSessions(sessions), rois, zscore), out);
            System.out.print(DatasetInfo.text(d));
            return 0;
        }
    }

    /** "1-37" or "1,3,5-8" → session numbers; null → empty (all). */
    static List<Integer> parseSessions(String spec) {
        List<Integer> out = new ArrayList<>();
        if (spec == null) return out;
        for (String part : spec.split(",")) {
            String p = part.strip();
            try {
                if (p.contains("-")) {
                    String[] ab = p.split("-", 2);
                    int a = Integer.parseInt(ab[0].strip()), b = Integer.parseInt(ab[1].strip());
                    if (a < 1 || b < a) throw new Main.UsageException("--sessions: bad range '" + p + "'");
                    for (int s = a; s <= b; s++) out.add(s);
                } else {
                    int s = Integer.parseInt(p);
                    if (s < 1) throw new Main.UsageException("--sessions: sessions are numbered from 1, got " + s);
                    out.add(s);
                }
            } catch (NumberFormatException e) {
                throw new Main.UsageException("--sessions: '" + p + "' is not a number or a range like 1-37");
            }
        }
        return out;
    }

    @Command(name = "import-mat", mixinStandardHelpOptions = true,
            description = "Import train/test responses and stimuli from a MATLAB v5/v7/v7.3 file into a data set.",
            footer = {"", "Example:", "  brain2img data import-mat ../shared/data/vangerven-digits/digit69_28x28.mat --out data/digits"})
    static final class ImportMat implements Callable<Integer> {
        @Parameters(paramLabel = "FILE", description = "The .mat file.")
        Path file;
        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Data set directory to create.")
        Path out;
        @Option(names = "--x-train", defaultValue = MatImporter.X_TRAIN, description = "Training responses (default: ${DEFAULT-VALUE}, else detected).")
        String xTrain;
        @Option(names = "--x-test", defaultValue = MatImporter.X_TEST, description = "Test responses (default: ${DEFAULT-VALUE}, else detected).")
        String xTest;
        @Option(names = "--stim-train", defaultValue = MatImporter.STIM_TRAIN, description = "Training stimuli, one flattened image per trial (default: ${DEFAULT-VALUE}, else detected).")
        String stimTrain;
        @Option(names = "--stim-test", defaultValue = MatImporter.STIM_TEST, description = "Test stimuli (default: ${DEFAULT-VALUE}, else detected).")
        String stimTest;
        @Option(names = "--image-size", paramLabel = "HxW", description = "Image height×width (default: square).")
        String imageSize;
        @Option(names = "--column-major", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "Flattened images are column-major, MATLAB's reshape(v,H,W,C) (default); --no-column-major for C order over (H,W,C).")
        boolean columnMajor;

        @Override
        public Integer call() throws IOException {
            int[] hw = null;
            if (imageSize != null) {
                String[] p = imageSize.toLowerCase(java.util.Locale.ROOT).split("x");
                try {
                    hw = new int[]{Integer.parseInt(p[0].strip()), Integer.parseInt(p[1].strip())};
                } catch (RuntimeException e) {
                    throw new Main.UsageException("--image-size: expected HxW like 28x28, got '" + imageSize + "'");
                }
                if (p.length != 2 || hw[0] < 1 || hw[1] < 1) throw new Main.UsageException("--image-size: expected HxW like 28x28, got '" + imageSize + "'");
            }
            Dataset d = MatImporter.run(new MatImporter.Options(file, xTrain, xTest, stimTrain, stimTest, hw, columnMajor), out);
            System.out.print(DatasetInfo.text(d));
            return 0;
        }
    }

    @Command(name = "synth", mixinStandardHelpOptions = true,
            description = "Generate a synthetic data set (procedural scenes, simulated voxels, known ground truth).",
            footer = {"", "Examples:", "  brain2img data synth --out data/synth --images 200 --voxels 500 --seed 1",
                    "  brain2img data synth --out nsd-fake --images 200 --voxels 500 --seed 1 --nsd-layout"})
    static final class SynthCmd implements Callable<Integer> {
        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory to create.")
        Path out;
        @Option(names = "--images", required = true, paramLabel = "N", description = "Number of distinct images.")
        int images;
        @Option(names = "--voxels", required = true, paramLabel = "V", description = "Number of voxels (60%% early visual, 40%% semantic).")
        int voxels;
        @Option(names = "--seed", required = true, paramLabel = "S", description = "Random seed: the same seed gives the same data.")
        long seed;
        @Option(names = "--snr", defaultValue = "1.0", paramLabel = "X", description = "Median per-voxel signal/noise variance ratio of one trial (default: ${DEFAULT-VALUE}).")
        double snr;
        @Option(names = "--nsd-layout", description = "Write the data as an NSD tree (for import-nsd) instead of a data set.")
        boolean nsdLayout;
        @Option(names = "--image-size", defaultValue = "64", paramLabel = "PX", description = "Side of the square RGB stimuli (default: ${DEFAULT-VALUE}).")
        int imageSize;
        @Option(names = "--train-repetitions", defaultValue = "1", paramLabel = "K", description = "Presentations of each training image (default: ${DEFAULT-VALUE}; test images: 3).")
        int trainReps;
        @Option(names = "--sessions", defaultValue = "0", paramLabel = "K", description = "Sessions (default: one per 750 trials, at least 2).")
        int sessions;

        @Override
        public Integer call() throws IOException {
            Synth.Options o = Synth.Options.of(images, voxels, seed).withSnr(snr).withNsdLayout(nsdLayout)
                    .withImageSize(imageSize).withRepetitions(trainReps, 3).withSessions(sessions);
            Synth.generate(out, o);
            if (nsdLayout) System.out.println("wrote a synthetic NSD tree at " + out + " (import it with: brain2img data import-nsd --nsd " + out + " --subject 1 --out DIR)");
            else System.out.print(DatasetInfo.text(Dataset.open(out)));
            return 0;
        }
    }

    @Command(name = "info", mixinStandardHelpOptions = true,
            description = "Validate a data set and summarise it (trials, images, voxels, ROIs, captions, provenance).",
            footer = {"", "Example:", "  brain2img data info data/digits --json"})
    static final class Info implements Callable<Integer> {
        @Parameters(paramLabel = "DIR", description = "Data set directory.")
        Path dir;
        @Option(names = "--json", description = "Machine-readable summary (train_trials, test_trials, voxels, images, ...).")
        boolean json;

        @Override
        public Integer call() throws IOException {
            Dataset d = Dataset.open(dir);
            if (json) System.out.println(Json.MAPPER.writeValueAsString(DatasetInfo.summary(d)));
            else System.out.print(DatasetInfo.text(d));
            return 0;
        }
    }

    @Command(name = "average", mixinStandardHelpOptions = true,
            description = "Write a data set with one trial per image: the mean of its repeated trials.",
            footer = {"", "Example:", "  brain2img data average data/nsd-subj01 --out data/nsd-subj01-avg"})
    static final class Average implements Callable<Integer> {
        @Parameters(paramLabel = "DIR", description = "Data set directory.")
        Path dir;
        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Averaged data set to create.")
        Path out;

        @Override
        public Integer call() throws IOException {
            Dataset d = DatasetWriter.writeAveraged(Dataset.open(dir), out);
            System.out.print(DatasetInfo.text(d));
            return 0;
        }
    }

}
