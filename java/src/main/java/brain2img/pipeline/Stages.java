package brain2img.pipeline;

import brain2img.backend.Backend;
import brain2img.eval.AuditResult;
import brain2img.eval.NetSuite;

import java.io.IOException;
import java.util.Locale;
import java.util.function.Consumer;

/** The stages of one run, whatever its targets: pixels ({@link Pipeline}) or Stable Diffusion z,c ({@link SdPipeline}). */
public interface Stages {
    enum Stage { FEATURES, FIT, DECODE, RENDER, EVALUATE, REPORT }

    /** One stage: returns false when it was already up to date. */
    @FunctionalInterface
    interface Step {
        boolean run() throws IOException;
    }

    /** Runs every stage up to and including {@code last}, skipping those already up to date. */
    void through(Stage last) throws IOException;

    /** Forgets every stage's stamp, so the next {@link #through} recomputes all. */
    void invalidate() throws IOException;

    /** The audit of this run, once the evaluate or report stage has computed it in this process (else null). */
    AuditResult audit();

    static Stages create(RunConfig cfg, Backend backend, Consumer<String> log) {
        return create(cfg, backend, log, null);
    }

    /** @param nets opens the metric networks of {@code --nets} (null where the run has none) */
    static Stages create(RunConfig cfg, Backend backend, Consumer<String> log, NetSuite.Loader nets) {
        return cfg.targets().equals("pixels") ? new Pipeline(cfg, backend, log, nets) : new SdPipeline(cfg, backend, log, nets);
    }

    /** Runs the steps in stage order up to {@code last}, logging "done in" or "up to date" for each. */
    static void run(Stage last, Consumer<String> log, Step... steps) throws IOException {
        for (Stage s : Stage.values()) {
            long t0 = System.nanoTime();
            boolean ran = steps[s.ordinal()].run();
            String name = s.name().toLowerCase(Locale.ROOT);
            log.accept(ran ? String.format(Locale.ROOT, "%s: done in %.1f s", name, (System.nanoTime() - t0) / 1e9) : name + ": up to date");
            if (s == last) return;
        }
    }
}
