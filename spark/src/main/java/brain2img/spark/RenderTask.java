package brain2img.spark;

import brain2img.pipeline.Planner;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.resource.ResourceInformation;

import java.nio.file.Path;

/**
 * One task = one unit of the render stage: binds to the task's GPU address (none: CPU), leases this executor's
 * pipeline for the run folder (weights loaded once per executor), renders the unit into the shared run folder.
 *
 * @param failUnit a unit id whose first attempt fails after its other outputs are written and before the file
 *                 that marks it done (fault injection for the resume tests; null: none)
 */
record RenderTask(String out, String device, String failUnit) implements Function<Planner.Unit, TaskReport> {
    static final String GPU = "gpu";

    @Override
    public TaskReport call(Planner.Unit unit) throws Exception {
        TaskContext tc = TaskContext.get();
        String gpu = gpuAddress(tc);
        long t0 = System.currentTimeMillis();
        ExecutorStages.Entry e = ExecutorStages.lease(Path.of(out), device, gpu);
        boolean ok = false;
        try {
            e.stages().renderUnit(unit, () -> {
                if (unit.id().equals(failUnit) && tc.attemptNumber() == 0) {
                    throw new IllegalStateException("injected failure in unit " + unit.id() + " (attempt 0)");
                }
            });
            ok = true;
        } finally {
            if (ok) ExecutorStages.release(e);
            else ExecutorStages.discard(e);
        }
        String executor = SparkEnv.get() == null ? "?" : SparkEnv.get().executorId();
        return new TaskReport(unit.id(), executor, java.net.InetAddress.getLocalHost().getHostName(), gpu, tc.attemptNumber(),
                t0, System.currentTimeMillis());
    }

    /** The first GPU address Spark assigned this task, or null when the task holds no GPU resource. */
    static String gpuAddress(TaskContext tc) {
        ResourceInformation r = tc == null ? null : tc.resourcesJMap().get(GPU);
        return r == null || r.addresses().length == 0 ? null : r.addresses()[0];
    }
}
