package brain2img.encode;

import brain2img.backend.Backend;
import brain2img.vision.VisionNet;

import java.nio.file.Path;

/**
 * Opens a vision network for the {@code net:ARCH:NODE} spaces. Its signature is that of
 * {@code brain2img.vision.VisionNets.open(arch, weights, config, backend)}, so the real loader plugs in as
 * {@code VisionNets::open} (what {@code brain2img encode} uses); {@link #NONE} refuses them, for runs without {@code net:} spaces.
 */
@FunctionalInterface
public interface VisionNetLoader {
    VisionNet open(String arch, Path weights, Path config, Backend backend);

    VisionNetLoader NONE = (arch, weights, config, backend) -> {
        throw new IllegalArgumentException("net: spaces need a vision-network loader, and this caller gave none");
    };
}
