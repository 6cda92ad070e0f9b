package brain2img.testing;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SharedTest {
    private static final String MISSING = "no-such-folder-" + Long.toHexString(System.nanoTime());

    @Test
    void missingSharedDataSkipsOnADeveloperMachine() {
        var e = assertThrows(TestAbortedException.class, () -> Shared.require(MISSING, null));
        assertTrue(e.getMessage().contains("shared data not found") && e.getMessage().contains(MISSING), e.getMessage());
        e = assertThrows(TestAbortedException.class, () -> Shared.require(MISSING, "false"));
        assertTrue(e.getMessage().contains(MISSING), e.getMessage());
    }

    @Test
    void missingSharedDataFailsUnderCi() {
        for (String ci : new String[] {"true", "TRUE", "1"}) {
            var e = assertThrows(AssertionFailedError.class, () -> Shared.require(MISSING, ci));
            assertTrue(e.getMessage().contains(MISSING) && e.getMessage().contains("CI=" + ci), e.getMessage());
        }
    }

    @Test
    void ciIsTrueOrOneOnly() {
        assertTrue(Shared.isCi("true"));
        assertTrue(Shared.isCi("True"));
        assertTrue(Shared.isCi("1"));
        assertFalse(Shared.isCi(null));
        assertFalse(Shared.isCi("false"));
        assertFalse(Shared.isCi("0"));
        assertFalse(Shared.isCi(""));
    }
}
