package brain2img.pipeline;

import brain2img.backend.Backend;
import brain2img.eval.AuditResult;
import brain2img.eval.NetSuite;

import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The stages of one run, whatever its method and targets: pixels ({@link Pipeline}), Stable Diffusion z,c
 * ({@link SdPipeline}) or Shen et al.'s feature decoding and image optimisation ({@link ShenPipeline}).
 */
public interface Stages extends AutoCloseable {
    enum Stage { FEATURES, FIT, DECODE, RENDER, EVALUATE, REPORT }

    /** One stage: returns false when it was already up to date. */
    @FunctionalInterface
    interface Step {
        boolean run() throws IOException;
    }

    /**
     * Runs every stage up to and including {@code last}, skipping those already up to date; false when the
     * render stage of a shard left units to other shards (the stages after it were not run).
     */
    boolean through(Stage last) throws IOException;

    /** Forgets every stage's stamp, so the next {@link #through} recomputes all. */
    void invalidate() throws IOException;

    /** The audit of this run, once the evaluate or report stage has computed it in this process (else null). */
    AuditResult audit();

    /** The render stage's units of work (needs the decode stage's outputs), in plan order. */
    List<Planner.Unit> plan() throws IOException;

    /** True when the unit's outputs are all present. */
    boolean done(Planner.Unit unit);

    /** Renders one unit and writes its outputs (atomically, its .npy last); the same bytes whoever calls it. */
    default void renderUnit(Planner.Unit unit) throws IOException {
        renderUnit(unit, () -> {});
    }

    /**
     * As {@link #renderUnit(Planner.Unit)}, calling {@code beforeDone} after every other output of the unit is
     * written and before the .npy that marks it done (a distributed task checks for cancellation there).
     */
    void renderUnit(Planner.Unit unit, Runnable beforeDone) throws IOException;

    /** Releases what rendering loaded (model weights); the backend stays with its owner. */
    @Override
    default void close() {}

    /** From now on the render stage renders only the units of this shard (default: all). */
    void shard(Planner.Shard shard);

    /**
     * The render stage of a shard found units of other shards missing: this process's run ends after it (not
     * an error); the message says what is missing and who gathers.
     */
    final class Pending extends RuntimeException {
        public Pending(String message) {
            super(message, null, false, false);
        }
    }

    static Stages create(RunConfig cfg, Backend backend, Consumer<String> log) {
        return create(cfg, backend, log, null);
    }

    /** @param nets opens the metric networks of {@code --nets} (null where the run has none) */
    static Stages create(RunConfig cfg, Backend backend, Consumer<String> log, NetSuite.Loader nets) {
        if (cfg.method().shen()) return new ShenPipeline(cfg, backend, log, nets);
        return cfg.targets().equals("pixels") ? new Pipeline(cfg, backend, log, nets) : new SdPipeline(cfg, backend, log, nets);
    }

    /**
     * Runs the steps in stage order up to {@code last}, logging "done in" or "up to date" for each; returns
     * false when a stage was {@link Pending} (the later stages were not run).
     */
    static boolean run(Stage last, Consumer<String> log, Step... steps) throws IOException {
        for (Stage s : Stage.values()) {
            long t0 = System.nanoTime();
            boolean ran;
            try {
                ran = steps[s.ordinal()].run();
            } catch (Pending p) {
                log.accept(p.getMessage());
                return false;
            }
            String name = s.name().toLowerCase(Locale.ROOT);
            log.accept(ran ? String.format(Locale.ROOT, "%s: done in %.1f s", name, (System.nanoTime() - t0) / 1e9) : name + ": up to date");
            if (s == last) return true;
        }
        return true;
    }
}
