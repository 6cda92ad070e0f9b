package brain2img.io;

import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImagesTest {
    @TempDir
    Path tmp;

    @Test
    void pngRoundTripIsExactForEightBitValues() throws IOException {
        int h = 5, w = 7;
        float[] d = new float[3 * h * w];
        for (int i = 0; i < d.length; i++) d[i] = Images.toUnit((i * 37) % 256);
        Tensor img = Tensor.of(d, 3, h, w);
        Path f = tmp.resolve("x.png");
        Images.write(f, img);
        BufferedImage read = ImageIO.read(f.toFile());
        assertEquals(w, read.getWidth());
        assertEquals(h, read.getHeight());
        // channel order: pixel (0,0) red = value 0 of plane 0, green from plane 1, blue from plane 2
        int rgb = read.getRGB(1, 0);
        assertEquals((37) % 256, (rgb >> 16) & 0xff);
        assertEquals((35 * 37 + 37) % 256, (rgb >> 8) & 0xff);
        assertArrayEquals(d, Images.read(f).toFloatArray(), 1e-6f);
    }

    @Test
    void valuesAreClampedAndGreyIsSupported() throws IOException {
        Tensor grey = Tensor.of(new float[]{-3f, -1f, 0f, 1f, 5f, 0.5f}, 1, 2, 3);
        Path f = tmp.resolve("g.png");
        Images.write(f, grey);
        Tensor back = Images.read(f);
        assertArrayEquals(new long[]{3, 2, 3}, back.shape());
        assertEquals(-1f, back.getFloat(0), 0f);
        assertEquals(1f, back.getFloat(4), 0f);
        assertEquals(Images.toUnit(128), back.getFloat(2), 1e-6f); // 0 maps to round(127.5) = 128
        assertEquals(back.getFloat(5), back.getFloat(6 + 5), 0f);   // grey: equal channels
    }

    /** Our encoder against an independent decoder: ImageIO must read back every 8-bit level exactly. */
    @Test
    void encodedPngIsReadBackExactlyByImageIO() throws IOException {
        Random rnd = new Random(7);
        for (int c : new int[]{3, 1}) {
            int h = 37, w = 53; // odd sizes, several scanlines of random (incompressible) data
            int[] level = new int[c * h * w];
            float[] d = new float[level.length];
            for (int i = 0; i < d.length; i++) {
                level[i] = rnd.nextInt(256);
                d[i] = Images.toUnit(level[i]);
            }
            byte[] png = Images.encodePng(Tensor.of(d, c, h, w), x -> Images.toByte((float) x));
            BufferedImage read = ImageIO.read(new ByteArrayInputStream(png));
            assertEquals(w, read.getWidth());
            assertEquals(h, read.getHeight());
            assertEquals(c, read.getRaster().getNumBands(), "channels");
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    for (int k = 0; k < c; k++) {
                        assertEquals(level[k * h * w + y * w + x], read.getRaster().getSample(x, y, k), "c=" + c + " (" + x + "," + y + ") band " + k);
                    }
                }
            }
        }
    }

    @Test
    void batchesAreWrittenOnePngEach() throws IOException {
        Path[] files = Images.writeBatch(tmp.resolve("out"), "img_", Tensor.zeros(3, 3, 4, 4));
        assertEquals(3, files.length);
        for (Path p : files) assertTrue(Files.size(p) > 0 && ImageIO.read(p.toFile()) != null, p.toString());
        assertEquals("img_002.png", files[2].getFileName().toString());
    }

    @Test
    void nonImagesAreClearErrors() throws IOException {
        Path f = tmp.resolve("not.png");
        Files.writeString(f, "nope");
        FormatException e = assertThrows(FormatException.class, () -> Images.read(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        FormatException missing = assertThrows(FormatException.class, () -> Images.read(tmp.resolve("missing.png")));
        assertEquals(tmp.resolve("missing.png") + ": no such file", missing.getMessage());
        var bad = assertThrows(IllegalArgumentException.class, () -> Images.write(tmp.resolve("bad.png"), Tensor.zeros(2, 4, 4)));
        assertEquals("image tensor must be (3,H,W) or (1,H,W), got f32[2, 4, 4]", bad.getMessage());
    }
}
