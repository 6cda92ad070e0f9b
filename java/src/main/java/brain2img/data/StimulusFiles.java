package brain2img.data;

import brain2img.io.FormatException;
import brain2img.io.Images;
import brain2img.tensor.Tensor;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Stimulus images as 8-bit PNG files and (C,H,W) tensors in [0,1] (value v/255; C = 1 grey or 3 RGB). Values
 * are rounded to the nearest of the 256 levels on writing, so a tensor that already holds multiples of 1/255
 * comes back bit for bit.
 */
final class StimulusFiles {
    private StimulusFiles() {}

    /**
     * Writes the image as an 8-bit PNG ({@link Images#encodePng}), level round(255·v) of v clamped to [0,1].
     * Not atomic by itself: {@link DatasetWriter} writes into a temporary directory it renames.
     */
    static void write(Path file, Tensor chw) throws IOException {
        if (chw.rank() != 3 || (chw.dim(0) != 1 && chw.dim(0) != 3)) {
            throw new IllegalArgumentException("stimulus must be (1,H,W) or (3,H,W), got " + chw.shapeString());
        }
        Files.write(file, Images.encodePng(chw, v -> Math.round(Math.max(0f, Math.min(1f, (float) v)) * 255f)));
    }

    static Tensor read(Path file) {
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw new FormatException(file + ": cannot decode PNG (" + e.getMessage() + ")", e);
        }
        if (img == null) {
            throw new FormatException(file + (Files.exists(file) ? ": not a PNG image" : ": no such file"));
        }
        Raster r = img.getRaster();
        int bands = r.getNumBands();
        int c = bands >= 3 ? 3 : 1; // an alpha band, if any, is dropped
        if (img.getColorModel().getComponentSize(0) != 8 && img.getType() != BufferedImage.TYPE_BYTE_INDEXED) {
            throw new FormatException(file + ": only 8-bit images are supported");
        }
        int h = img.getHeight(), w = img.getWidth();
        float[] out = new float[c * h * w];
        int plane = h * w;
        boolean direct = img.getType() == BufferedImage.TYPE_BYTE_GRAY || img.getType() == BufferedImage.TYPE_3BYTE_BGR
                || img.getType() == BufferedImage.TYPE_4BYTE_ABGR || img.getType() == BufferedImage.TYPE_CUSTOM;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = y * w + x;
                if (direct) {
                    for (int k = 0; k < c; k++) out[k * plane + i] = r.getSample(x, y, k) / 255f;
                } else { // palette and packed types: go through the colour model
                    int rgb = img.getRGB(x, y);
                    if (c == 1) out[i] = (rgb & 0xff) / 255f;
                    else {
                        out[i] = ((rgb >> 16) & 0xff) / 255f;
                        out[plane + i] = ((rgb >> 8) & 0xff) / 255f;
                        out[2 * plane + i] = (rgb & 0xff) / 255f;
                    }
                }
            }
        }
        return Tensor.of(out, c, h, w);
    }
}
