package brain2img.cli;

import brain2img.io.Images;
import brain2img.io.Npy;
import brain2img.tensor.Tensor;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/** Input checks shared by the {@code sd unet}, {@code sd vae-*} and {@code sd sample} commands; failures are usage errors naming the file. */
final class SdInputs {
    private SdInputs() {}

    /** A floating-point .npy as f32. */
    static Tensor readFloat(Path file, String what) {
        Tensor t = Npy.read(file);
        if (!t.dtype().isFloating()) throw new Main.UsageException(file + ": " + what + " must be float, got " + t.shapeString());
        return t.toF32();
    }

    /** Runs a shape check, turning its IllegalArgumentException into a usage error that names the file. */
    static void check(Path file, Runnable check) {
        try {
            check.run();
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(file + ": " + e.getMessage());
        }
    }

    /** (B,C,h,w) with C channels and h, w positive multiples of m. */
    static void require4d(Path file, Tensor t, String what, long channels, int m) {
        long[] s = t.shape();
        if (s.length != 4 || s[0] < 1 || s[1] != channels || s[2] < 1 || s[3] < 1 || s[2] % m != 0 || s[3] % m != 0) {
            throw new Main.UsageException(file + ": " + what + " must be (B," + channels + ",H,W)"
                    + (m > 1 ? " with H and W multiples of " + m : "") + ", got " + t.shapeString());
        }
    }

    /** Writes a (B,3,H,W) batch in [-1,1] as DIR/image_000.png, … and names them on stderr. */
    static void writePngs(Path dir, Tensor images, PrintWriter log) throws IOException {
        Files.createDirectories(dir);
        for (Path p : Images.writeBatch(dir, "image_", images)) log.println("wrote " + p);
    }
}
