package brain2img.testing;

import brain2img.backend.Backends;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** The condition behind {@link GpuTest}: enabled only where {@link Backends#cudaUnavailableReason()} is null. */
public final class GpuCondition implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        String why = Backends.cudaUnavailableReason();
        return why == null
                ? ConditionEvaluationResult.enabled("CUDA available")
                : ConditionEvaluationResult.disabled("no usable GPU: " + why);
    }
}
