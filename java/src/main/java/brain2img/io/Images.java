package brain2img.io;

import brain2img.tensor.Tensor;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * PNG/JPEG in and out through ImageIO, and the conversions SD uses between 8-bit RGB images and tensors:
 * a pixel value v in 0..255 is v/127.5 − 1 in [-1,1]; back, x is clamped to [-1,1] and mapped with
 * round((x+1)·127.5). Tensors are (3,H,W) or (1,H,W) (grey) in channel-first order.
 */
public final class Images {
    private Images() {}

    /** Reads a PNG/JPEG/BMP file as (3,H,W) in [-1,1]; a grey file gives three equal channels. */
    public static Tensor read(Path file) {
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw new FormatException(file + ": cannot decode image (" + e.getMessage() + ")", e);
        }
        if (img == null) {
            if (!Files.exists(file)) throw new FormatException(file + ": no such file");
            throw new FormatException(file + ": not a PNG, JPEG or BMP image");
        }
        return fromImage(img);
    }

    /** An image as (3,H,W) in [-1,1]. */
    public static Tensor fromImage(BufferedImage img) {
        int h = img.getHeight(), w = img.getWidth();
        float[] out = new float[3 * h * w];
        int plane = h * w;
        // getRGB would push a grey image's linear samples through a gamma curve; read grey samples as stored
        boolean grey = img.getColorModel().getColorSpace().getType() == java.awt.color.ColorSpace.TYPE_GRAY
                && img.getRaster().getNumBands() == 1;
        double greyMax = grey ? (1 << img.getColorModel().getComponentSize(0)) - 1 : 255;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = y * w + x;
                if (grey) {
                    float v = toUnit((int) Math.round(img.getRaster().getSample(x, y, 0) * 255 / greyMax));
                    out[i] = out[plane + i] = out[2 * plane + i] = v;
                    continue;
                }
                int rgb = img.getRGB(x, y);
                out[i] = toUnit((rgb >> 16) & 0xff);
                out[plane + i] = toUnit((rgb >> 8) & 0xff);
                out[2 * plane + i] = toUnit(rgb & 0xff);
            }
        }
        return Tensor.of(out, 3, h, w);
    }

    /** (3,H,W) or (1,H,W) in [-1,1] → an 8-bit image (RGB, or grey for one channel); values are clamped. */
    public static BufferedImage toImage(Tensor chw) {
        if (chw.rank() != 3 || (chw.dim(0) != 3 && chw.dim(0) != 1)) {
            throw new IllegalArgumentException("image tensor must be (3,H,W) or (1,H,W), got " + chw.shapeString());
        }
        int c = chw.dimInt(0), h = chw.dimInt(1), w = chw.dimInt(2);
        int plane = h * w;
        BufferedImage img = new BufferedImage(w, h, c == 3 ? BufferedImage.TYPE_INT_RGB : BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = y * w + x;
                int r = toByte(chw.getFloat(i));
                if (c == 1) {
                    img.getRaster().setSample(x, y, 0, r);
                } else {
                    int g = toByte(chw.getFloat(plane + i)), b = toByte(chw.getFloat(2L * plane + i));
                    img.setRGB(x, y, (r << 16) | (g << 8) | b);
                }
            }
        }
        return img;
    }

    /** Writes (3,H,W) or (1,H,W) in [-1,1] as PNG (or JPEG for a .jpg/.jpeg name), atomically. */
    public static void write(Path file, Tensor chw) throws IOException {
        BufferedImage img = toImage(chw);
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        String format = name.endsWith(".jpg") || name.endsWith(".jpeg") ? "jpeg" : "png";
        AtomicFiles.write(file, out -> {
            if (!ImageIO.write(img, format, out)) throw new IOException("no ImageIO writer for " + format);
        });
    }

    /** Writes each item of a (B,C,H,W) batch as {@code prefix + index + ".png"} in dir; returns the paths. */
    public static Path[] writeBatch(Path dir, String prefix, Tensor bchw) throws IOException {
        if (bchw.rank() != 4) throw new IllegalArgumentException("image batch must be (B,C,H,W), got " + bchw.shapeString());
        Path[] paths = new Path[bchw.dimInt(0)];
        for (int b = 0; b < paths.length; b++) {
            paths[b] = dir.resolve(String.format(Locale.ROOT, "%s%03d.png", prefix, b));
            write(paths[b], bchw.get(b));
        }
        return paths;
    }

    static float toUnit(int v) {
        return v / 127.5f - 1f;
    }

    static int toByte(float x) {
        float c = Math.max(-1f, Math.min(1f, x));
        return Math.round((c + 1f) * 127.5f);
    }
}
