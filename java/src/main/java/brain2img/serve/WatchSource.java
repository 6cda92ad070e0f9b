package brain2img.serve;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Watches a folder where each new file is one volume ({@link VolumeFiles#isVolumeName}). A file is picked up once
 * complete: when its size is non-zero and unchanged over one poll interval (a file renamed in whole is complete at
 * once and passes at the next poll). New files are taken in name order. Each file gets the next volume index
 * whether or not it can be read; an unreadable one is logged with its name and skipped.
 */
final class WatchSource {
    static final long POLL_MILLIS = 25;

    private final Path dir;
    private final VolumeFiles files;
    private final Consumer<String> log;

    WatchSource(Path dir, VolumeFiles files, Consumer<String> log) {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException(dir + ": not a folder to watch");
        this.dir = dir;
        this.files = files;
        this.log = log;
    }

    /**
     * Polls until {@code stop} says so or {@code max} files (good or bad) have arrived (0 = no limit).
     *
     * @return the number of files that could not be read
     */
    int run(Consumer<Volume> sink, int max, BooleanSupplier stop) throws InterruptedException {
        Set<String> seen = new HashSet<>();
        Map<String, Long> lastSize = new HashMap<>();
        int index = 0, bad = 0;
        while (!stop.getAsBoolean() && (max == 0 || index < max)) {
            TreeMap<String, Long> sizes = list(seen);
            for (Map.Entry<String, Long> e : sizes.entrySet()) {
                String name = e.getKey();
                Long before = lastSize.put(name, e.getValue());
                if (before == null || !before.equals(e.getValue()) || e.getValue() == 0) continue; // still growing
                seen.add(name);
                lastSize.remove(name);
                long arrival = System.nanoTime(), epoch = System.currentTimeMillis();
                try {
                    float[] v = files.read(dir.resolve(name));
                    sink.accept(new Volume(index, index, name, null, arrival, epoch, v, (System.nanoTime() - arrival) / 1e6, 0));
                } catch (RuntimeException ex) {
                    bad++;
                    log.accept("serve: skipped " + name + ": " + ex.getMessage());
                }
                index++;
                if (max != 0 && index >= max) break;
            }
            Thread.sleep(POLL_MILLIS);
        }
        return bad;
    }

    /** Volume files not yet taken, name → size (files that vanish between listing and sizing are left out). */
    private TreeMap<String, Long> list(Set<String> seen) {
        TreeMap<String, Long> m = new TreeMap<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                String n = p.getFileName().toString();
                if (seen.contains(n) || !VolumeFiles.isVolumeName(n)) continue;
                try {
                    m.put(n, Files.size(p));
                } catch (NoSuchFileException gone) {
                    // renamed away or deleted since the listing
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot list the watched folder", e);
        }
        return m;
    }
}
