package brain2img.cli;

import brain2img.io.FormatException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;

/** The {@code brain2img} command line. */
@Command(name = "brain2img",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Reconstructs seen images from fMRI (Takagi & Nishimoto 2023; Shen et al. 2019) and audits how much came from the brain.",
        footer = {"", "Examples:",
                "  brain2img demo            # writes runs/demo/run/report.html",
                "  brain2img run --data data/digits --out runs/digits --seed 42",
                "  brain2img sd sample --help",
                "",
                "Every command's --help shows its options and an example."},
        subcommands = {
                DemoCommand.class,
                ServeCommand.class,
                PipelineCommands.Run.class,
                PipelineCommands.Features.class,
                PipelineCommands.Fit.class,
                PipelineCommands.Decode.class,
                PipelineCommands.Render.class,
                PipelineCommands.Evaluate.class,
                PipelineCommands.Report.class,
                WeightsCommand.class,
                SdCommand.class,
                CudaCommand.class,
                DataCommand.class,
                RidgeCommand.class,
                BenchCommand.class,
                EncodeCommand.class,
                NetsCommand.class,
                DirCommand.class,
                CommandLine.HelpCommand.class,
        })
public final class Main implements Runnable {

    @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT,
            description = "Print stack traces for errors.")
    boolean debug;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the CLI and returns its exit code (0 ok, 1 failure, 2 bad usage). */
    public static int execute(String... args) {
        CommandLine cl = commandLine();
        return cl.execute(args);
    }

    /** The command line; {@code extraSubcommands} join the root (the spark module adds {@code spark} this way). */
    public static CommandLine commandLine(Object... extraSubcommands) {
        CommandLine cl = new CommandLine(new Main());
        for (Object c : extraSubcommands) cl.addSubcommand(c);
        cl.setExecutionExceptionHandler(Main::handleError);
        cl.setParameterExceptionHandler(Main::handleUsageError);
        return cl;
    }

    private static boolean debugRequested(CommandLine cl) {
        for (CommandLine c = cl; c != null; c = c.getParent()) {
            if (c.getCommand() instanceof Main m && m.debug) return true;
        }
        return Boolean.getBoolean("brain2img.debug");
    }

    private static int handleError(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        if (debugRequested(cl)) e.printStackTrace(err);
        err.println("brain2img " + cl.getCommandName() + ": error: " + describe(e));
        err.flush();
        return e instanceof CommandLine.ParameterException || e instanceof UsageException ? 2 : 1;
    }

    private static int handleUsageError(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println("brain2img " + cl.getCommandName() + ": " + e.getMessage());
        err.println("Try 'brain2img " + fullName(cl) + " --help'.");
        err.flush();
        return 2;
    }

    private static String fullName(CommandLine cl) {
        return cl.getCommandSpec().qualifiedName().replaceFirst("^brain2img ?", "").strip();
    }

    /** One line for the user: the message, or the exception type where there is none. */
    static String describe(Throwable e) {
        Throwable t = e;
        while ((t instanceof UncheckedIOException || t instanceof java.util.concurrent.CompletionException
                || t.getClass() == RuntimeException.class) && t.getCause() != null && t.getMessage() == null) {
            t = t.getCause();
        }
        String msg = t.getMessage();
        if (t instanceof java.nio.file.NoSuchFileException) return "no such file: " + msg;
        if (t instanceof java.nio.file.AccessDeniedException) return "permission denied: " + msg;
        if (t instanceof OutOfMemoryError) return "out of memory (raise -Xmx via BRAIN2IMG_JAVA_OPTS)";
        if (msg == null || msg.isBlank()) return t.getClass().getSimpleName();
        if (t instanceof FormatException || t instanceof IllegalArgumentException || t instanceof IllegalStateException
                || t instanceof IOException || t instanceof UsageException) return msg;
        return t.getClass().getSimpleName() + ": " + msg;
    }

    /** Bad usage found after parsing (an option combination, a file of the wrong shape): exit code 2. */
    public static final class UsageException extends RuntimeException {
        public UsageException(String message) {
            super(message);
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[]{"brain2img " + (v == null ? "dev" : v),
                    "Java " + Runtime.version() + " (" + System.getProperty("java.vm.vendor") + ")"};
        }
    }
}
