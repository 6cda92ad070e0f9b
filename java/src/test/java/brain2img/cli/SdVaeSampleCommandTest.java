package brain2img.cli;

import brain2img.io.Npy;
import brain2img.tensor.Tensor;
import brain2img.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static brain2img.testing.Assert.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code sd vae-encode}, {@code sd vae-decode} and {@code sd sample} end to end on sd-tiny, from both layouts. */
class SdVaeSampleCommandTest {
    @TempDir
    Path tmp;

    private final StringWriter err = new StringWriter();

    private int run(List<String> args) {
        CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args.toArray(String[]::new));
    }

    /** "sd CMD --device cpu --weights W [--config weights/]" for the layout. */
    private static List<String> base(String cmd, String layout) {
        Path tiny = Shared.sdTiny();
        List<String> a = new ArrayList<>(List.of("sd", cmd, "--device", "cpu"));
        if (layout.equals("diffusers")) {
            a.addAll(List.of("--weights", tiny.resolve("weights").toString()));
        } else {
            a.addAll(List.of("--weights", tiny.resolve("single-file.safetensors").toString(), "--config", tiny.resolve("weights").toString()));
        }
        return a;
    }

    private static String cas(String name) {
        return Shared.sdTiny().resolve("cases").resolve(name + ".npy").toString();
    }

    private static Tensor golden(String name) {
        return Npy.read(Path.of(cas(name)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"diffusers", "single-file"})
    void vaeEncodeAndDecode(String layout) throws IOException {
        List<String> enc = base("vae-encode", layout);
        Path m = tmp.resolve("m.npy"), lv = tmp.resolve("lv.npy"), img = tmp.resolve("img.npy"), png = tmp.resolve("png");
        enc.addAll(List.of("--image", cas("vae_in_image"), "--out-mean", m.toString(), "--out-logvar", lv.toString()));
        assertEquals(0, run(enc), err::toString);
        assertClose(golden("vae_out_mean"), Npy.read(m), 1e-4, layout + " vae_out_mean");
        assertClose(golden("vae_out_logvar"), Npy.read(lv), 1e-4, layout + " vae_out_logvar");

        List<String> dec = base("vae-decode", layout);
        dec.addAll(List.of("--latent", cas("vae_in_latent"), "--out", img.toString(), "--png", png.toString()));
        assertEquals(0, run(dec), err::toString);
        Tensor decoded = Npy.read(img);
        assertClose(golden("vae_out_decoded"), decoded, 1e-4, layout + " vae_out_decoded");
        assertPngsShow(png, decoded);
    }

    @ParameterizedTest
    @ValueSource(strings = {"diffusers", "single-file"})
    void img2imgSample(String layout) throws IOException {
        Path l = tmp.resolve("l.npy"), img = tmp.resolve("img.npy"), png = tmp.resolve("png");
        List<String> a = base("sample", layout);
        a.addAll(List.of("--cond", cas("img2img_in_cond"), "--uncond", cas("img2img_in_uncond"), "--noise", cas("img2img_in_noise"),
                "--steps", "10", "--guidance", "5", "--init-latent", cas("img2img_in_latent"), "--strength", "0.8",
                "--convention", "diffusers", "--out-latent", l.toString(), "--out-image", img.toString(), "--png", png.toString()));
        assertEquals(0, run(a), err::toString);
        assertClose(golden("img2img_out_latent"), Npy.read(l), 1e-4, layout + " img2img_out_latent");
        Tensor image = Npy.read(img);
        assertClose(golden("img2img_out_image"), image, 1e-4, layout + " img2img_out_image");
        assertPngsShow(png, image);
        assertTrue(err.toString().contains("8 of 10 steps from t=701, noise at t=701"), err::toString);
        assertTrue(err.toString().contains("step 8/8  t=1"), err::toString);
    }

    @Test
    void txt2imgSample() {
        Path l = tmp.resolve("l.npy");
        List<String> a = base("sample", "diffusers");
        a.addAll(List.of("--cond", cas("img2img_in_cond"), "--uncond", cas("img2img_in_uncond"), "--noise", cas("img2img_in_noise"),
                "--steps", "8", "--guidance", "7.5", "--out-latent", l.toString()));
        assertEquals(0, run(a), err::toString);
        // Item 0 to 1e-4; item 1 is float32-ill-conditioned in the tiny model (see SamplerGoldenTest).
        assertClose(golden("txt2img_out_latent").slice(0, 1), Npy.read(l).slice(0, 1), 1e-4, "txt2img_out_latent item 0");
        assertClose(golden("txt2img_out_latent"), Npy.read(l), 5e-4, "txt2img_out_latent");
    }

    @Test
    void compvisConventionAndSeededEta() {
        Path l1 = tmp.resolve("l1.npy"), l2 = tmp.resolve("l2.npy");
        for (Path out : List.of(l1, l2)) {
            List<String> a = base("sample", "diffusers");
            a.addAll(List.of("--cond", cas("img2img_in_cond"), "--uncond", cas("img2img_in_uncond"), "--noise", cas("img2img_in_noise"),
                    "--steps", "10", "--guidance", "5", "--init-latent", cas("img2img_in_latent"), "--strength", "0.8",
                    "--convention", "compvis", "--eta", "0.5", "--seed", "7", "--out-latent", out.toString()));
            assertEquals(0, run(a), err::toString);
        }
        assertTrue(err.toString().contains("8 of 10 steps from t=701, noise at t=801"), err::toString);
        assertArrayEquals(Npy.read(l1).toFloatArray(), Npy.read(l2).toFloatArray(), "same seed, same latent");
    }

    @Test
    void badInputsAreUsageErrors() throws IOException {
        Path l = tmp.resolve("l.npy");
        List<String> common = List.of("--cond", cas("img2img_in_cond"), "--uncond", cas("img2img_in_uncond"),
                "--noise", cas("img2img_in_noise"), "--steps", "10", "--guidance", "5", "--out-latent", l.toString());

        List<String> a = base("sample", "diffusers");
        a.addAll(common);
        a.addAll(List.of("--strength", "0.5"));
        assertEquals(2, run(a));
        assertTrue(err.toString().contains("--init-latent and --strength"), err::toString);

        a = base("sample", "diffusers");
        a.addAll(common);
        a.addAll(List.of("--init-latent", cas("img2img_in_latent"), "--strength", "1", "--convention", "compvis"));
        assertEquals(2, run(a));
        assertTrue(err.toString().contains("compvis convention needs"), err::toString);

        a = base("sample", "diffusers");
        a.addAll(List.of("--cond", cas("unet_in_context"), "--uncond", cas("img2img_in_uncond"), "--noise", cas("img2img_in_noise"),
                "--steps", "10", "--guidance", "5", "--out-latent", l.toString()));
        assertEquals(2, run(a));
        assertTrue(err.toString().contains("unet_in_context.npy: context must be (2,S,32)"), err::toString);

        List<String> dec = base("vae-decode", "diffusers");
        dec.addAll(List.of("--latent", cas("vae_in_image"), "--out", tmp.resolve("x.npy").toString()));
        assertEquals(2, run(dec));
        assertTrue(err.toString().contains("vae_in_image.npy: latent must be (B,4,H,W)"), err::toString);

        Path bright = tmp.resolve("bright.npy");
        float[] v = new float[3 * 64 * 64];
        java.util.Arrays.fill(v, 200f);
        Npy.write(bright, Tensor.of(v, 1, 3, 64, 64));
        List<String> enc = base("vae-encode", "diffusers");
        enc.addAll(List.of("--image", bright.toString(), "--out-mean", tmp.resolve("m.npy").toString()));
        assertEquals(2, run(enc));
        assertTrue(err.toString().contains("image values must be in [-1,1]"), err::toString);
        assertTrue(java.nio.file.Files.notExists(l), "nothing written on bad input");
    }

    /** DIR/image_000.png… exist, ImageIO reads them, and their pixels are the clamped [-1,1] → 0..255 images. */
    private static void assertPngsShow(Path dir, Tensor images) throws IOException {
        int b = images.dimInt(0), h = images.dimInt(2), w = images.dimInt(3);
        float[] v = images.toFloatArray();
        for (int i = 0; i < b; i++) {
            BufferedImage png = ImageIO.read(dir.resolve(String.format("image_%03d.png", i)).toFile());
            assertNotNull(png, "image_" + i + ".png readable");
            assertEquals(w, png.getWidth());
            assertEquals(h, png.getHeight());
            for (int y = 0; y < h; y += 7) {
                for (int x = 0; x < w; x += 5) {
                    int rgb = png.getRGB(x, y);
                    for (int c = 0; c < 3; c++) {
                        float f = Math.max(-1f, Math.min(1f, v[((i * 3 + c) * h + y) * w + x]));
                        int want = Math.round((f + 1f) * 127.5f), got = (rgb >> (16 - 8 * c)) & 0xff;
                        assertEquals(want, got, 1, "pixel " + x + "," + y + " channel " + c + " of image " + i);
                    }
                }
            }
        }
    }
}
