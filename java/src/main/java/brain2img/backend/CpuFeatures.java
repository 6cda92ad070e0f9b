package brain2img.backend;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.Set;

/** The instruction-set flags the kernel reports for this CPU (Linux /proc/cpuinfo; none elsewhere). */
final class CpuFeatures {
    private static final Path CPUINFO = Path.of("/proc/cpuinfo");

    private CpuFeatures() {}

    /** Whether this CPU reports every one of the flags (false where they cannot be read). */
    static boolean hasAll(Collection<String> flags) {
        try {
            return Files.isReadable(CPUINFO) && parseFlags(Files.readString(CPUINFO)).containsAll(flags);
        } catch (IOException e) {
            return false;
        }
    }

    /** The flags of the first processor listed ("flags : fpu vme … avx512f …"); empty if there is no such line. */
    static Set<String> parseFlags(String cpuinfo) {
        for (String line : cpuinfo.split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).strip().equals("flags")) {
                return Set.copyOf(Arrays.asList(line.substring(colon + 1).strip().split("\\s+")));
            }
        }
        return Set.of();
    }
}
