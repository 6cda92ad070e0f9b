package brain2img.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds the CUDA shared libraries at run time by name and major version, and binds their symbols.
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

    /** A loaded library, or the reason none of the names could be loaded. */
    record Lib(String what, SymbolLookup lookup, String loadedAs, String error) {
        /** A downcall handle for the first of the names that exists; null when not loaded or none exists. */
        MethodHandle bind(FunctionDescriptor fd, String... names) {
            if (lookup == null) return null;
            for (String n : names) {
                var sym = lookup.find(n);
                if (sym.isPresent()) return LINKER.downcallHandle(sym.get(), fd);
            }
            return null;
        }
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
    static Lib load(String what, String... names) {
        for (String n : names) {
            for (Path d : searchDirs()) {
                Path f = d.resolve(n);
                if (Files.isRegularFile(f)) {
                    try {
                        return new Lib(what, SymbolLookup.libraryLookup(f, Arena.global()), f.toString(), null);
                    } catch (IllegalArgumentException | IllegalCallerException e) {
                        return new Lib(what, null, null, f + " could not be loaded: " + e.getMessage());
                    }
                }
            }
            try {
                return new Lib(what, SymbolLookup.libraryLookup(n, Arena.global()), n, null);
            } catch (IllegalArgumentException e) {
                // not on the linker's path either; try the next version
            } catch (IllegalCallerException e) {
                return new Lib(what, null, null, "native access is disabled (run java with --enable-native-access=ALL-UNNAMED)");
            }
        }
        return new Lib(what, null, null, String.join(" / ", names) + " not found (searched " + searchDirs()
                + " and the system library path; set -Dbrain2img.cuda.libpath=DIR)");
    }
}
