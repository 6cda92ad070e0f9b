package brain2img.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

import static java.lang.foreign.ValueLayout.ADDRESS;

/**
 * Finds the CUDA shared libraries at run time by name and major version, binds their symbols, and checks the
 * status codes their functions return, naming each failure by the library's own status table.
 *
 * <p>Search order for each candidate name (e.g. libcublas.so.13, then libcublas.so.12): the directories in the
 * system property {@code brain2img.cuda.libpath} and the environment variable {@code BRAIN2IMG_CUDA_LIBPATH}
 * (colon-separated), {@code $CUDA_HOME/lib64}, {@code $CUDA_PATH/lib64}, {@code /usr/local/cuda/lib64}, then the
 * dynamic linker's own search (LD_LIBRARY_PATH, the ldconfig cache). Libraries stay loaded for the life of the
 * JVM (the global arena), as the driver expects.
 */
final class NativeLibs {
    static final Linker LINKER = Linker.nativeLinker();

    private NativeLibs() {}

    /**
     * A loaded library, or the reason none of the names could be loaded ({@code lookup} null, {@code error} set);
     * {@code statusName} turns a status code of its functions into "NAME (code)" for error messages.
     */
    static final class Lib {
        private final SymbolLookup lookup;
        private final String loadedAs, error;
        private final IntFunction<String> statusName;
        private final List<String> missing = new ArrayList<>();

        private Lib(SymbolLookup lookup, String loadedAs, String error, IntFunction<String> statusName) {
            this.lookup = lookup;
            this.loadedAs = loadedAs;
            this.error = error;
            this.statusName = statusName;
        }

        SymbolLookup lookup() { return lookup; }

        /** The file or name it was loaded as; null when not loaded. */
        String loadedAs() { return loadedAs; }

        /** Why it could not be loaded; null when loaded. */
        String error() { return error; }

        /** The first name of each symbol {@link #bind} could not find in the loaded library, in bind order. */
        List<String> missing() { return List.copyOf(missing); }

        /** A downcall handle for the first of the names that exists; null when not loaded or none exists. */
        MethodHandle bind(FunctionDescriptor fd, String... names) {
            if (lookup == null) return null;
            for (String n : names) {
                var sym = lookup.find(n);
                if (sym.isPresent()) return LINKER.downcallHandle(sym.get(), fd);
            }
            missing.add(names[0]);
            return null;
        }

        /** Throws {@link CudaException} "call: NAME (code)" unless {@code rc} is 0 (success in every CUDA library). */
        void check(int rc, String call) {
            if (rc != 0) throw new CudaException(call + ": " + statusName.apply(rc), rc);
        }

        /** Calls {@code status create(handle_t* out)} (e.g. cublasCreate_v2) and returns the new handle. */
        MemorySegment newHandle(MethodHandle create, String call) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment p = a.allocate(ADDRESS);
                check((int) create.invokeExact(p), call);
                return p.get(ADDRESS, 0);
            } catch (Throwable t) { throw rethrow(t); }
        }
    }

    /** For {@code catch (Throwable t) { throw rethrow(t); }} around invokeExact: unchecked as is, else wrapped. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    static List<Path> searchDirs() {
        List<Path> dirs = new ArrayList<>();
        addPath(dirs, System.getProperty("brain2img.cuda.libpath"));
        addPath(dirs, System.getenv("BRAIN2IMG_CUDA_LIBPATH"));
        for (String env : new String[]{"CUDA_HOME", "CUDA_PATH"}) {
            String v = System.getenv(env);
            if (v != null && !v.isBlank()) dirs.add(Path.of(v, "lib64"));
        }
        dirs.add(Path.of("/usr/local/cuda/lib64"));
        return dirs;
    }

    private static void addPath(List<Path> dirs, String colonList) {
        if (colonList == null) return;
        for (String p : colonList.split(":")) if (!p.isBlank()) dirs.add(Path.of(p));
    }

    /** Loads the first of {@code names} found; never throws (a failure is recorded in {@link Lib#error}). */
    static Lib load(IntFunction<String> statusName, String... names) {
        for (String n : names) {
            for (Path d : searchDirs()) {
                Path f = d.resolve(n);
                if (Files.isRegularFile(f)) {
                    try {
                        return new Lib(SymbolLookup.libraryLookup(f, Arena.global()), f.toString(), null, statusName);
                    } catch (IllegalArgumentException | IllegalCallerException e) {
                        return new Lib(null, null, f + " could not be loaded: " + e.getMessage(), statusName);
                    }
                }
            }
            try {
                return new Lib(SymbolLookup.libraryLookup(n, Arena.global()), n, null, statusName);
            } catch (IllegalArgumentException e) {
                // not on the linker's path either; try the next version
            } catch (IllegalCallerException e) {
                return new Lib(null, null, "native access is disabled (run java with --enable-native-access=ALL-UNNAMED)", statusName);
            }
        }
        return new Lib(null, null, String.join(" / ", names) + " not found (searched " + searchDirs()
                + " and the system library path; set -Dbrain2img.cuda.libpath=DIR)", statusName);
    }
}
