package brain2img.spark;

import brain2img.cli.DeviceOption;
import brain2img.cli.PipelineCommands;
import brain2img.pipeline.RunConfig;
import brain2img.pipeline.Stages;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code brain2img spark run|render|ridge}: the pipeline and ridge fits on an Apache Spark cluster. */
@Command(name = "spark", mixinStandardHelpOptions = true,
        description = "Run the pipeline's render stage (one task per unit, one GPU per task) or a ridge fit on Apache Spark.",
        footer = {"", "Examples:",
                "  brain2img spark run --master spark://head:7077 --data data/subj01 --out runs/subj01 --targets z,c --weights weights",
                "  brain2img spark render --master local[2] --out runs/digits"},
        subcommands = {SparkCommand.Run.class, SparkCommand.Render.class, SparkRidgeCommand.class})
public final class SparkCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Where to run: the master URL and extra Spark settings. */
    public static final class ClusterOptions {
        @Option(names = "--master", required = true, paramLabel = "URL",
                description = "Spark master: spark://HOST:7077 (standalone), yarn, k8s://https://HOST:443, or local[N] (CPU, for testing).")
        String master;
        @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "A Spark setting, repeatable (e.g. spark.executor.resource.gpu.amount=1).")
        List<String> conf = new ArrayList<>();

        /** A Spark context; the application jar (this module's shaded jar, when running from it) is shipped to executors. */
        JavaSparkContext open(String app) {
            SparkConf c = new SparkConf().setMaster(master).setAppName(app);
            for (String kv : conf) {
                int eq = kv.indexOf('=');
                if (eq <= 0) throw new brain2img.cli.Main.UsageException("--conf: expected KEY=VALUE, got '" + kv + "'");
                c.set(kv.substring(0, eq).strip(), kv.substring(eq + 1).strip());
            }
            // executors need the engine's flags (Vector API, native access) and the opens Spark needs on Java 25
            String opts = jvmFlags() + " " + c.get(EXECUTOR_OPTIONS, "");
            c.set(EXECUTOR_OPTIONS, opts.strip());
            Path jar = applicationJar();
            if (jar != null && !c.contains("spark.jars")) c.setJars(new String[]{jar.toString()});
            return new JavaSparkContext(c);
        }

        static final String EXECUTOR_OPTIONS = "spark.executor.extraJavaOptions";

        /** The JVM flags this module was built with (brain2img/spark/jvm-flags.txt). */
        static String jvmFlags() {
            try (var in = SparkCommand.class.getResourceAsStream("/brain2img/spark/jvm-flags.txt")) {
                if (in == null) throw new IllegalStateException("brain2img/spark/jvm-flags.txt missing from the classpath (rebuild the spark module)");
                return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        /** The jar this class was loaded from, or null when it comes from a classes folder (tests). */
        static Path applicationJar() {
            try {
                Path p = Path.of(SparkCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
                return Files.isRegularFile(p) && p.toString().endsWith(".jar") ? p : null;
            } catch (Exception e) {
                return null;
            }
        }
    }

    abstract static class StageCommand implements Callable<Integer> {
        @Mixin
        PipelineCommands.RunOptions run;
        @Mixin
        DeviceOption device;
        @Mixin
        ClusterOptions cluster;

        abstract Stages.Stage last();

        @Override
        public Integer call() throws Exception {
            RunConfig cfg = run.resolve();
            String failUnit = System.getProperty("brain2img.spark.failUnit");
            try (JavaSparkContext sc = cluster.open("brain2img " + last().name().toLowerCase(java.util.Locale.ROOT) + " " + cfg.out())) {
                SparkRender.run(sc, cfg, device.name(), run.force(), last(), failUnit, System.out::println);
            }
            return 0;
        }
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "brain2img run with the render stage's units as Spark tasks; then evaluate and report in the driver.",
            footer = {"", "Example:", "  brain2img spark run --master spark://127.0.0.1:7077 --data data/digits --out runs/digits --seed 42",
                    "    --conf spark.executor.resource.gpu.amount=1 --conf spark.task.resource.gpu.amount=1"})
    public static final class Run extends StageCommand {
        Stages.Stage last() { return Stages.Stage.REPORT; }
    }

    @Command(name = "render", mixinStandardHelpOptions = true,
            description = "Features, fit and decode in the driver, the render stage's missing units as Spark tasks, gathered into RUN/recon.",
            footer = {"", "Example:", "  brain2img spark render --master local[2] --out runs/digits"})
    public static final class Render extends StageCommand {
        Stages.Stage last() { return Stages.Stage.RENDER; }
    }
}
