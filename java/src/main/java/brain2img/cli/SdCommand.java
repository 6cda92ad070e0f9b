package brain2img.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code brain2img sd ...}: the Stable Diffusion components, one command each. */
@Command(name = "sd", mixinStandardHelpOptions = true,
        description = "Stable Diffusion v1.x components: tokenizer, text encoder, U-Net, VAE, DDIM sampling.",
        subcommands = {
                SdTokenizeCommand.class,
                SdEncodeTextCommand.class,
                SdUnetCommand.class,
                SdVaeEncodeCommand.class,
                SdVaeDecodeCommand.class,
                SdSampleCommand.class,
        })
public final class SdCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
