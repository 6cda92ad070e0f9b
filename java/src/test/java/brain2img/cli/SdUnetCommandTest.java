package brain2img.cli;

import brain2img.io.Npy;
import brain2img.tensor.Tensor;
import brain2img.testing.Assert;
import brain2img.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code brain2img sd unet} end to end on the tiny goldens. */
class SdUnetCommandTest {
    @TempDir
    Path tmp;

    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    private String[] args(Path weights, Path config, Path timesteps, Path context, Path out) {
        Path cases = Shared.sdTiny().resolve("cases");
        var a = new java.util.ArrayList<>(java.util.List.of("sd", "unet", "--device", "cpu", "--weights", weights.toString(),
                "--latent", cases.resolve("unet_in_latent.npy").toString(), "--timesteps", timesteps.toString(),
                "--context", context.toString(), "--out", out.toString()));
        if (config != null) a.addAll(java.util.List.of("--config", config.toString()));
        return a.toArray(String[]::new);
    }

    @Test
    void bothLayoutsReproduceTheReference() {
        Path tiny = Shared.sdTiny(), cases = tiny.resolve("cases");
        Tensor ref = Npy.read(cases.resolve("unet_out_eps.npy"));
        Path out1 = tmp.resolve("eps1.npy"), out2 = tmp.resolve("eps2.npy");
        assertEquals(0, run(args(tiny.resolve("weights"), null, cases.resolve("unet_in_timesteps.npy"),
                cases.resolve("unet_in_context.npy"), out1)), err::toString);
        Assert.assertClose(ref, Npy.read(out1), 1e-4, "CLI, diffusers folder");
        assertEquals(0, run(args(tiny.resolve("single-file.safetensors"), tiny.resolve("weights"),
                cases.resolve("unet_in_timesteps.npy"), cases.resolve("unet_in_context.npy"), out2)), err::toString);
        Assert.assertClose(ref, Npy.read(out2), 1e-4, "CLI, single file");
    }

    @Test
    void floatTimestepsAreAccepted() throws IOException {
        Path tiny = Shared.sdTiny(), cases = tiny.resolve("cases");
        Path t = tmp.resolve("t.npy");
        Npy.write(t, Tensor.of(new double[]{981, 500, 1}, 3));
        Path out = tmp.resolve("eps.npy");
        assertEquals(0, run(args(tiny.resolve("weights"), null, t, cases.resolve("unet_in_context.npy"), out)), err::toString);
        Assert.assertClose(Npy.read(cases.resolve("unet_out_eps.npy")), Npy.read(out), 1e-4, "f64 timesteps");
    }

    @Test
    void misShapedContextIsAUsageErrorNamingTheFile() throws IOException {
        Path tiny = Shared.sdTiny(), cases = tiny.resolve("cases");
        Path ctx = tmp.resolve("ctx.npy");
        Npy.write(ctx, Tensor.zeros(3, 77, 16));
        Path out = tmp.resolve("eps.npy");
        assertEquals(2, run(args(tiny.resolve("weights"), null, cases.resolve("unet_in_timesteps.npy"), ctx, out)));
        String msg = err.toString();
        assertTrue(msg.contains("ctx.npy: context must be (3,S,32)") && msg.contains("[3, 77, 16]"), msg);
        assertFalse(Files.exists(out));
    }

    @Test
    void wrongTimestepCountIsAUsageError() throws IOException {
        Path tiny = Shared.sdTiny(), cases = tiny.resolve("cases");
        Path t = tmp.resolve("t.npy");
        Npy.write(t, Tensor.ofInts(new int[]{1, 2}, 2).to(brain2img.tensor.DType.I64));
        assertEquals(2, run(args(tiny.resolve("weights"), null, t, cases.resolve("unet_in_context.npy"), tmp.resolve("e.npy"))));
        assertTrue(err.toString().contains("t.npy: 2 timesteps for a batch of 3"), err.toString());
    }
}
