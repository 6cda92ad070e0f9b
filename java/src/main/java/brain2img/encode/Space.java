package brain2img.encode;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One feature space of the encoding analysis, parsed from its name:
 * <ul>
 *   <li>{@code pixels}: the stimulus resized to the pixel size (C·h·w values);</li>
 *   <li>{@code z}: the VAE posterior mean of the stimulus at the SD size (4·(S/8)²);</li>
 *   <li>{@code c}: CLIP text hidden states averaged over the image's captions (77·D);</li>
 *   <li>{@code zc@S}: the latent after img2img at strength S from the true z under the true c (unscaled, as z);</li>
 *   <li>{@code unet:NODE@T}: the U-Net activation NODE ({@code conv_in}, {@code down_blocks.i}, {@code mid_block},
 *       {@code up_blocks.i}) in one forward pass at timestep T on the true z noised to T, conditioned on the true c;
 *       T is a training timestep (0…999) or {@code early}/{@code middle}/{@code late} = steps 10, 25, 40 of a
 *       50-step DDIM schedule (781, 481, 181 for SD v1's leading spacing);</li>
 *   <li>{@code net:ARCH:NODE}: node NODE of vision network ARCH (see {@link brain2img.vision.VisionNet}).</li>
 * </ul>
 */
public record Space(String name, Kind kind, String node, String arch, double strength, String timestep) {
    public enum Kind { PIXELS, Z, C, ZC, UNET, NET }

    private static final Pattern ZC = Pattern.compile("zc@([0-9.]+)");
    private static final Pattern UNET = Pattern.compile("unet:(conv_in|mid_block|down_blocks\\.\\d+|up_blocks\\.\\d+)@(early|middle|late|\\d+)");
    private static final Pattern NET = Pattern.compile("net:([A-Za-z0-9_.-]+):([A-Za-z0-9_.\\[\\]-]+)");

    /** Parses a space name; throws naming the name and the accepted forms. */
    public static Space parse(String s) {
        String name = s.strip();
        switch (name) {
            case "pixels": return new Space(name, Kind.PIXELS, null, null, 0, null);
            case "z": return new Space(name, Kind.Z, null, null, 0, null);
            case "c": return new Space(name, Kind.C, null, null, 0, null);
            default: break;
        }
        Matcher m = ZC.matcher(name);
        if (m.matches()) {
            double st;
            try {
                st = Double.parseDouble(m.group(1));
            } catch (NumberFormatException e) {
                st = Double.NaN;
            }
            if (!(st > 0 && st <= 1)) throw new IllegalArgumentException("space '" + name + "': the strength must be in (0, 1]");
            return new Space(name, Kind.ZC, null, null, st, null);
        }
        m = UNET.matcher(name);
        if (m.matches()) return new Space(name, Kind.UNET, m.group(1), null, 0, m.group(2));
        m = NET.matcher(name);
        if (m.matches()) return new Space(name, Kind.NET, m.group(2), m.group(1), 0, null);
        throw new IllegalArgumentException("unknown feature space '" + name + "' (expected pixels, z, c, zc@S, unet:NODE@T with NODE conv_in|down_blocks.i|mid_block|up_blocks.i "
                + "and T early|middle|late|0-999, or net:ARCH:NODE)");
    }

    /** Needs Stable Diffusion weights. */
    public boolean needsSd() {
        return kind == Kind.Z || kind == Kind.C || kind == Kind.ZC || kind == Kind.UNET;
    }

    /** A file-name-safe form of the name, e.g. {@code unet_mid_block_early}. */
    public String fileName() {
        return name.replaceAll("[^A-Za-z0-9._-]+", "_").toLowerCase(Locale.ROOT);
    }

    @Override
    public String toString() {
        return name;
    }
}
