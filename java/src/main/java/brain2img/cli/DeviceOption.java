package brain2img.cli;

import brain2img.backend.Backend;
import brain2img.backend.Backends;
import picocli.CommandLine.Option;

/** The {@code --device} option shared by compute commands; the chosen backend is announced on stderr. */
public final class DeviceOption {
    @Option(names = "--device", paramLabel = "cpu|cuda|auto",
            description = "Compute backend (default: the brain2img.device property, else auto = CUDA if available, else CPU).")
    String device;

    /** The --device value as given (null: not given). */
    public String name() {
        return device;
    }

    public Backend open() {
        Backend b = Backends.create(device, System.err);
        System.err.println("backend: " + b.describe());
        return b;
    }
}
