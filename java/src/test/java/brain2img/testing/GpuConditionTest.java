package brain2img.testing;

import brain2img.backend.Backends;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class GpuConditionTest {
    @Test
    void enabledExactlyWhenCudaIsAvailableWithTheLoaderReason() {
        var result = new GpuCondition().evaluateExecutionCondition(null);
        String why = Backends.cudaUnavailableReason();
        assertEquals(why == null, !result.isDisabled());
        if (why != null) assertEquals("no usable GPU: " + why, result.getReason().orElseThrow());
    }
}
