package brain2img.encode;

import java.nio.file.Path;

/**
 * What the feature spaces depend on besides the data: the SD weights and image size (z, c, zc@S, unet:), the
 * img2img steps and guidance (zc@S), the seed of SD's noise, the side of the pixels space, the vision-net weights.
 */
public record FeatureSettings(Path weights, Path nets, int sdSize, int sdSteps, double guidance, long seed, int pixelSize) {}
