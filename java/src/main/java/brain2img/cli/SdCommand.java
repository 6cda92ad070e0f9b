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
        },
        footer = {"", "Examples:",
                "  brain2img sd tokenize --weights weights/sd-v1-4 --text-file prompts.json \\",
                "      --out ids.npy",
                "  brain2img sd encode-text --weights weights/sd-v1-4 --text-file prompts.json \\",
                "      --out c.npy"})
public final class SdCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
