package brain2img.backend;

import java.util.Locale;

/**
 * Chooses a backend from {@code --device cpu|cuda|auto} or the system property {@code brain2img.device}.
 * "auto" takes CUDA where it is available and falls back to the CPU with a note saying why.
 */
public final class Backends {
    public static final String PROPERTY = "brain2img.device";

    private Backends() {}

    /** Picks a backend; {@code device} null means the system property, then "auto". */
    public static Backend create(String device, java.io.PrintStream notes) {
        String d = device != null ? device : System.getProperty(PROPERTY, "auto");
        return switch (d.toLowerCase(Locale.ROOT)) {
            case "cpu" -> new CpuBackend();
            case "cuda" -> {
                String why = cudaUnavailableReason();
                if (why != null) throw new IllegalStateException("CUDA backend unavailable: " + why);
                yield createCuda();
            }
            case "auto" -> {
                String why = cudaUnavailableReason();
                if (why == null) yield createCuda();
                if (notes != null) notes.println("note: using the CPU backend (CUDA unavailable: " + why + ")");
                yield new CpuBackend();
            }
            default -> throw new IllegalArgumentException("unknown device '" + d + "' (expected cpu, cuda or auto)");
        };
    }

    /**
     * The CUDA backend on one device ordinal (a GPU address handed out by a scheduler), with the precision of
     * the system property; fails with the reason when CUDA is unavailable.
     */
    public static Backend cuda(int ordinal) {
        String why = cudaUnavailableReason();
        if (why != null) throw new IllegalStateException("CUDA backend unavailable: " + why);
        return new brain2img.cuda.CudaBackend(ordinal,
                brain2img.cuda.CudaBackend.Precision.parse(System.getProperty(brain2img.cuda.CudaBackend.PRECISION_PROPERTY, "fp32")));
    }

    /** Null when a CUDA backend can be created here, else the reason it cannot. */
    public static String cudaUnavailableReason() {
        return brain2img.cuda.CudaProbe.unavailableReason();
    }

    private static Backend createCuda() {
        return new brain2img.cuda.CudaBackend();
    }
}
