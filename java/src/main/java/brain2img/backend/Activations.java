package brain2img.backend;

/** Scalar activation functions shared by the CPU kernels and the tests' references. */
public final class Activations {
    private Activations() {}

    public static float apply(Backend.Unary op, float x) {
        return switch (op) {
            case SILU -> x / (1f + (float) Math.exp(-x));
            case GELU -> gelu(x);
            case QUICK_GELU -> x / (1f + (float) Math.exp(-1.702 * x));
            case EXP -> (float) Math.exp(x);
            case NEG -> -x;
        };
    }

    /** The image networks' activations; {@code slope} is LeakyReLU's negative slope. */
    public static float apply(Backend.Act act, float slope, float x) {
        return switch (act) {
            case RELU -> x > 0 ? x : 0f;
            case LEAKY_RELU -> x > 0 ? x : x * slope;
            case SIGMOID -> (float) (1.0 / (1.0 + Math.exp(-x)));
            case SILU -> (float) (x / (1.0 + Math.exp(-x)));
        };
    }

    /**
     * ∂L/∂x = g · act'(x) for the incoming gradient g. The rectifiers select rather than multiply (as torch's
     * threshold_backward: +0 where x ≤ 0 whatever g is).
     */
    public static float backward(Backend.Act act, float slope, float x, float g) {
        return switch (act) {
            case RELU -> x > 0 ? g : 0f;
            case LEAKY_RELU -> x > 0 ? g : g * slope;
            case SIGMOID, SILU -> g * derivative(act, slope, x);
        };
    }

    /** d act / dx at x (0 for ReLU at 0, as torch's threshold_backward). */
    private static float derivative(Backend.Act act, float slope, float x) {
        return switch (act) {
            case RELU -> x > 0 ? 1f : 0f;
            case LEAKY_RELU -> x > 0 ? 1f : slope;
            case SIGMOID -> {
                double s = 1.0 / (1.0 + Math.exp(-x));
                yield (float) (s * (1 - s));
            }
            case SILU -> {
                double s = 1.0 / (1.0 + Math.exp(-x));
                yield (float) (s * (1 + x * (1 - s)));
            }
        };
    }

    /** Exact GELU, x·Φ(x) = x/2 · (1 + erf(x/√2)). */
    public static float gelu(float x) {
        return (float) (0.5 * x * (1.0 + erf(x / Math.sqrt(2.0))));
    }

    /**
     * erf with absolute error below 1.2e-7 everywhere (Numerical Recipes' erfc Chebyshev fit,
     * evaluated in double), far inside float32 resolution.
     */
    public static double erf(double x) {
        double z = Math.abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1.0 - r : r - 1.0;
    }
}
