package brain2img.backend;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class CpuFeaturesTest {
    @Test
    void readsTheFirstProcessorsFlagsLine() {
        String cpuinfo = """
                processor\t: 0
                vendor_id\t: AuthenticAMD
                flags\t\t: fpu avx2 avx512f avx512cd avx512bw
                bugs\t\t: sysret_ss_attrs

                processor\t: 1
                flags\t\t: fpu sse
                """;
        assertEquals(Set.of("fpu", "avx2", "avx512f", "avx512cd", "avx512bw"), CpuFeatures.parseFlags(cpuinfo));
        assertEquals(Set.of(), CpuFeatures.parseFlags("processor : 0\nmodel name : x\n"));
    }

    @Test
    void aFlagNoCpuHasIsNeverReported() {
        assertFalse(CpuFeatures.hasAll(List.of("fpu", "no-such-flag-anywhere")));
    }
}
