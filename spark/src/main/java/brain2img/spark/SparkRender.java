package brain2img.spark;

import brain2img.backend.Backend;
import brain2img.backend.Backends;
import brain2img.io.AtomicFiles;
import brain2img.pipeline.Planner;
import brain2img.pipeline.RunConfig;
import brain2img.pipeline.Stages;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaSparkContext;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The driver side of {@code brain2img spark run|render}: features, fit and decode run once in the driver (their
 * outputs are files in the shared run folder); the render stage's missing units become one Spark task each;
 * then the driver gathers them into the same RUN layout as {@code brain2img run} and, for {@code run}, goes on
 * with evaluate and report. Units already present are skipped, so a rerun resumes.
 */
public final class SparkRender {
    /** Where the driver records every task's unit, executor, GPU address and times. */
    public static final String TASKS_CSV = "logs/spark-tasks.csv";

    private SparkRender() {}

    /**
     * @param device   cpu|cuda|auto for the driver's stages and the executors' (a task with a GPU address uses CUDA on it)
     * @param failUnit fault injection: this unit's first attempt fails mid-way (null: none)
     * @return the reports of the tasks that ran (empty when every unit was already present)
     */
    public static List<TaskReport> run(JavaSparkContext sc, RunConfig cfg, String device, boolean force, Stages.Stage last,
                                       String failUnit, Consumer<String> log) throws IOException {
        List<TaskReport> reports = new ArrayList<>();
        try (Backend be = Backends.create(device, System.err); Stages st = Stages.create(cfg, be, log)) {
            if (force) st.invalidate();
            st.through(Stages.Stage.DECODE);
            if (last.compareTo(Stages.Stage.RENDER) < 0) return reports;
            List<Planner.Unit> units = st.plan();
            List<Planner.Unit> todo = units.stream().filter(u -> !st.done(u)).toList();
            log.accept(String.format(Locale.ROOT, "spark: %d units, %d already present, %d to render as tasks", units.size(),
                    units.size() - todo.size(), todo.size()));
            if (!todo.isEmpty()) {
                long t0 = System.nanoTime();
                RenderTask task = new RenderTask(cfg.out().toAbsolutePath().toString(), device == null ? "auto" : device, failUnit);
                try {
                    reports.addAll(sc.parallelize(todo, todo.size()).map(task).collect());
                } catch (Exception e) { // Scala throws SparkException undeclared; its message carries the driver's stack trace
                    if (!(e instanceof SparkException)) throw e;
                    throw new IllegalStateException("Spark job failed (rerun to resume; present units are kept): "
                            + String.valueOf(e.getMessage()).lines().findFirst().orElse(""), e);
                }
                log.accept(String.format(Locale.ROOT, "spark: %d tasks done in %.1f s", reports.size(), (System.nanoTime() - t0) / 1e9));
                writeReports(cfg.out().resolve(TASKS_CSV), reports);
            }
            st.through(last);
        }
        return reports;
    }

    static void writeReports(Path file, List<TaskReport> reports) throws IOException {
        StringBuilder sb = new StringBuilder(TaskReport.CSV_HEADER).append('\n');
        for (TaskReport r : reports) sb.append(r.csv()).append('\n');
        AtomicFiles.write(file, sb.toString().getBytes(StandardCharsets.UTF_8));
    }
}
