package brain2img.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * The PTX modules of one context: loaded lazily from the jar resources {@code kernels/NAME.sm_XX.ptx} (built
 * from {@code kernels/NAME.cu}) for the device's architecture, sm_90 on Hopper and newer, else sm_80.
 */
final class Kernels implements AutoCloseable {
    static final String[] ARCHS = {"sm_80", "sm_90"};

    private final String arch;
    private final Map<String, MemorySegment> modules = new HashMap<>();
    private final EnumMap<Kernel, MemorySegment> functions = new EnumMap<>(Kernel.class);

    Kernels(int ccMajor) {
        this.arch = ccMajor >= 9 ? "sm_90" : "sm_80";
    }

    String arch() { return arch; }

    static String resource(String file, String arch) {
        return "kernels/" + file + "." + arch + ".ptx";
    }

    static byte[] readPtx(String file, String arch) {
        String r = resource(file, arch);
        try (InputStream in = Kernels.class.getClassLoader().getResourceAsStream(r)) {
            if (in == null) throw new IllegalStateException("kernel PTX " + r + " is missing from the jar (rebuild with nvcc, kernels/build-ptx.sh)");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + r, e);
        }
    }

    /** Null when every kernel file has its PTX for every architecture in the resources, else which are missing. */
    static String missingPtx() {
        TreeSet<String> missing = new TreeSet<>();
        for (Kernel k : Kernel.values()) {
            for (String a : ARCHS) {
                String r = resource(k.file, a);
                if (Kernels.class.getClassLoader().getResource(r) == null) missing.add(r);
            }
        }
        return missing.isEmpty() ? null : "kernel PTX missing from the jar: " + String.join(", ", missing);
    }

    /** The CUfunction of a kernel, loading its module on first use (the calling thread's context must be current). */
    synchronized MemorySegment function(Kernel k) {
        MemorySegment f = functions.get(k);
        if (f == null) {
            MemorySegment m = modules.get(k.file);
            if (m == null) {
                m = CudaDriver.moduleLoadData(readPtx(k.file, arch), resource(k.file, arch));
                modules.put(k.file, m);
            }
            f = CudaDriver.moduleGetFunction(m, k.entry);
            functions.put(k, f);
        }
        return f;
    }

    @Override
    public synchronized void close() {
        for (MemorySegment m : modules.values()) CudaDriver.moduleUnload(m);
        modules.clear();
        functions.clear();
    }
}
