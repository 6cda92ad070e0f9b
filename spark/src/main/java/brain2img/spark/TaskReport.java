package brain2img.spark;

import java.io.Serializable;
import java.util.Locale;

/**
 * What one task did, sent back to the driver: the unit, where it ran, which GPU address it held (null: none,
 * it ran on the CPU) and when (epoch milliseconds, the executor's clock).
 */
public record TaskReport(String unit, String executor, String host, String gpu, int attempt, long startMs, long endMs) implements Serializable {
    public static final String CSV_HEADER = "unit,executor,host,gpu,attempt,start_ms,end_ms";

    public String csv() {
        return String.format(Locale.ROOT, "%s,%s,%s,%s,%d,%d,%d", unit, executor, host, gpu == null ? "" : gpu, attempt, startMs, endMs);
    }
}
