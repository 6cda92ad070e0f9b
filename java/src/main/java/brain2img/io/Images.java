package brain2img.io;

import brain2img.tensor.Tensor;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.DoubleToIntFunction;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;

/**
 * PNG/JPEG in through ImageIO, out through our own PNG encoder or ImageIO's JPEG writer, and the conversions
 * SD uses between 8-bit RGB images and tensors: a pixel value v in 0..255 is v/127.5 − 1 in [-1,1]; back, x is clamped to [-1,1] and mapped with
 * round((x+1)·127.5). Tensors are (3,H,W) or (1,H,W) (grey) in channel-first order.
 */
public final class Images {
    static {
        ImageIO.setUseCache(false); // the default disk cache makes each small JPEG write several times slower
    }

    private Images() {}

    /** Reads a PNG/JPEG/BMP file as (3,H,W) in [-1,1]; a grey file gives three equal channels. */
    public static Tensor read(Path file) {
        if (!Files.exists(file)) throw new FormatException(file + ": no such file"); // ImageIO would say "Can't read input file!"
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw new FormatException(file + ": cannot decode image (" + e.getMessage() + ")", e);
        }
        if (img == null) throw new FormatException(file + ": not a PNG, JPEG or BMP image");
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
        checkShape(chw);
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

    /**
     * Writes (3,H,W) or (1,H,W) in [-1,1] atomically: as PNG with {@link #encodePng} (ImageIO's PNG writer costs
     * milliseconds per small image), or through ImageIO as JPEG for a .jpg/.jpeg name.
     */
    public static void write(Path file, Tensor chw) throws IOException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!(name.endsWith(".jpg") || name.endsWith(".jpeg"))) {
            AtomicFiles.write(file, png(chw));
            return;
        }
        BufferedImage img = toImage(chw);
        AtomicFiles.write(file, out -> {
            if (!ImageIO.write(img, "jpeg", out)) throw new IOException("no ImageIO writer for jpeg");
        });
    }

    /** The PNG bytes {@link #write} stores for a (3,H,W) or (1,H,W) tensor in [-1,1]. */
    public static byte[] png(Tensor chw) throws IOException {
        return encodePng(chw, x -> toByte((float) x));
    }

    /**
     * An 8-bit PNG of a (3,H,W) RGB or (1,H,W) grey tensor: signature, IHDR, one zlib IDAT of scanlines with
     * filter type 0, IEND.
     *
     * @param toByte each value's 8-bit level, which must be in 0..255 (e.g. {@link #toByte} for [-1,1])
     */
    public static byte[] encodePng(Tensor chw, DoubleToIntFunction toByte) throws IOException {
        checkShape(chw);
        int c = chw.dimInt(0), h = chw.dimInt(1), w = chw.dimInt(2);
        long plane = (long) h * w;
        byte[] raw = new byte[h * (1 + w * c)];
        int o = 0;
        for (int y = 0; y < h; y++) {
            raw[o++] = 0; // filter: none
            for (int x = 0; x < w; x++) {
                for (int k = 0; k < c; k++) raw[o++] = (byte) toByte.applyAsInt(chw.getFloat(k * plane + (long) y * w + x));
            }
        }
        ByteArrayOutputStream z = new ByteArrayOutputStream(raw.length / 2 + 64);
        try (DeflaterOutputStream d = new DeflaterOutputStream(z, new Deflater(6))) {
            d.write(raw);
        }
        ByteArrayOutputStream png = new ByteArrayOutputStream(z.size() + 64);
        png.write(new byte[]{(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(w).putInt(h)
                .put((byte) 8).put((byte) (c == 1 ? 0 : 2)).put((byte) 0).put((byte) 0).put((byte) 0); // depth, grey/RGB, deflate, no filter set, no interlace
        chunk(png, "IHDR", ihdr.array());
        chunk(png, "IDAT", z.toByteArray());
        chunk(png, "IEND", new byte[0]);
        return png.toByteArray();
    }

    /** A PNG chunk: length, type, data, CRC-32 of type and data. */
    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) throws IOException {
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        out.write(ByteBuffer.allocate(4).putInt(data.length).array());
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.write(t);
        out.write(data);
        out.write(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
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

    private static void checkShape(Tensor chw) {
        if (chw.rank() != 3 || (chw.dim(0) != 3 && chw.dim(0) != 1)) {
            throw new IllegalArgumentException("image tensor must be (3,H,W) or (1,H,W), got " + chw.shapeString());
        }
        // ImageIO's BufferedImage refused an empty image; a PNG cannot hold one either
        if (chw.dim(1) < 1 || chw.dim(2) < 1) throw new IllegalArgumentException("image tensor must not be empty, got " + chw.shapeString());
    }

    static float toUnit(int v) {
        return v / 127.5f - 1f;
    }

    static int toByte(float x) {
        float c = Math.max(-1f, Math.min(1f, x));
        return Math.round((c + 1f) * 127.5f);
    }
}
