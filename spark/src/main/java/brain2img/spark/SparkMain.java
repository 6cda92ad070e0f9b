package brain2img.spark;

import brain2img.cli.Main;

/**
 * The {@code brain2img} command line with {@code spark} added: the core CLI cannot depend on Spark, so this
 * module registers its command on the core's root ({@code ./brain2img spark ...} starts this class).
 */
public final class SparkMain {
    private SparkMain() {}

    static final String LOG_CONFIG = "log4j2.configurationFile";

    public static void main(String[] args) {
        if (System.getProperty(LOG_CONFIG) == null) System.setProperty(LOG_CONFIG, "brain2img/spark/log4j2.properties");
        System.exit(execute(args));
    }

    /** Runs the CLI (core commands and {@code spark}) and returns its exit code. */
    public static int execute(String... args) {
        return Main.commandLine(new SparkCommand()).execute(args);
    }
}
