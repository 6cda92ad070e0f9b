package brain2img.backend;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** -Dbrain2img.vector.bits caps the Vector API width (the 256-bit Surefire run relies on it). */
class CpuGemmSpeciesTest {
    @Test
    void capNarrowsThePreferredWidthAndNeverWidensIt() {
        int preferred = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        assertEquals(preferred, CpuGemm.species(0).vectorBitSize());
        for (int bits : new int[]{128, 256, 512}) {
            assertEquals(Math.min(bits, preferred), CpuGemm.species(bits).vectorBitSize(), "cap " + bits);
        }
        if (preferred > 128) {
            var e = assertThrows(IllegalArgumentException.class, () -> CpuGemm.species(100));
            assertTrue(e.getMessage().contains("brain2img.vector.bits") && e.getMessage().contains("100"), e.getMessage());
        }
        String cap = System.getProperty("brain2img.vector.bits");
        if (cap != null) assertEquals(Math.min(Integer.parseInt(cap), preferred), CpuGemm.SPECIES.vectorBitSize());
    }
}
