package brain2img.cli;

import brain2img.sd.SdSource;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;

/**
 * The {@code --weights W} and {@code --config DIR} options of the {@code sd} commands (a picocli mixin), the
 * {@link SdSource} they name, and the command's log stream.
 *
 * <p>{@code --config}'s help names the configs the command actually reads, so each component has its own subclass
 * declaring it; the subclasses differ in nothing else.
 */
abstract sealed class SdWeightsOptions {
    @Option(names = "--weights", required = true, paramLabel = "W", description = "A diffusers folder or an original single .safetensors file.")
    Path weights;

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    /** The {@code --config} folder, or null for the built-in SD v1 configs. */
    abstract Path config();

    /** Opens {@code --weights} with {@code --config}; SdSource's errors name the file or folder that is wrong. */
    SdSource open() {
        return SdSource.open(weights, config());
    }

    /** Progress and "wrote" lines go to the command line's error stream (stderr), keeping stdout clean. */
    PrintWriter log() {
        return command.commandLine().getErr();
    }

    /** For {@code sd unet}. */
    static final class Unet extends SdWeightsOptions {
        @Option(names = "--config", paramLabel = "DIR", description = "Diffusers folder whose unet/config.json describes a single-file W (default: built-in SD v1).")
        Path config;

        @Override
        Path config() { return config; }
    }

    /** For {@code sd vae-encode} and {@code sd vae-decode}. */
    static final class Vae extends SdWeightsOptions {
        @Option(names = "--config", paramLabel = "DIR", description = "Diffusers folder whose vae/config.json describes a single-file W (default: built-in SD v1).")
        Path config;

        @Override
        Path config() { return config; }
    }

    /** For {@code sd sample}, which reads the U-Net, VAE and scheduler configs. */
    static final class Sampling extends SdWeightsOptions {
        @Option(names = "--config", paramLabel = "DIR", description = "Diffusers folder with the unet/vae/scheduler configs of a single-file W (default: built-in SD v1).")
        Path config;

        @Override
        Path config() { return config; }
    }

    /** For {@code sd encode-text}, which reads the text encoder's config and the tokenizer. */
    static final class TextEncoder extends SdWeightsOptions {
        @Option(names = "--config", paramLabel = "DIR",
                description = "A diffusers folder with text_encoder/config.json and tokenizer/ for a single-file checkpoint (default config: SD v1).")
        Path config;

        @Override
        Path config() { return config; }
    }
}
