package brain2img.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeLibsTest {

    @Test
    void missingLibraryNamesEveryCandidateAndTheSearchPath() {
        NativeLibs.Lib lib = NativeLibs.load(CudaStatus::driver, "libbrain2img-none.so.13", "libbrain2img-none.so.12");
        assertNull(lib.lookup());
        assertTrue(lib.error().startsWith("libbrain2img-none.so.13 / libbrain2img-none.so.12 not found"), lib.error());
        assertTrue(lib.error().contains("/usr/local/cuda/lib64"), lib.error());
        assertTrue(lib.error().contains("-Dbrain2img.cuda.libpath"), lib.error());
        assertNull(lib.bind(java.lang.foreign.FunctionDescriptor.ofVoid(), "anything"));
    }

    @Test
    void libpathPropertyIsSearchedFirst(@TempDir Path dir) throws IOException {
        Path bogus = dir.resolve("libbrain2img-bogus.so.1");
        Files.writeString(bogus, "not an ELF file");
        String old = System.getProperty("brain2img.cuda.libpath");
        System.setProperty("brain2img.cuda.libpath", dir.toString());
        try {
            assertTrue(NativeLibs.searchDirs().getFirst().equals(dir));
            NativeLibs.Lib lib = NativeLibs.load(CudaStatus::driver, "libbrain2img-bogus.so.1");
            assertNull(lib.lookup());
            assertTrue(lib.error().startsWith(bogus + " could not be loaded"), lib.error());
        } finally {
            if (old == null) System.clearProperty("brain2img.cuda.libpath");
            else System.setProperty("brain2img.cuda.libpath", old);
        }
    }

    @Test
    void systemLibrariesLoadByName() {
        // libc is on every Linux machine: proves the dlopen-by-name path and symbol binding work.
        NativeLibs.Lib lib = NativeLibs.load(CudaStatus::driver, "libc.so.6");
        assertNull(lib.error());
        assertNotNull(lib.bind(java.lang.foreign.FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_LONG,
                java.lang.foreign.ValueLayout.ADDRESS), "no_such_symbol", "strlen"));
    }
}
