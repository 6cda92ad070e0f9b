package brain2img.sd;

import brain2img.backend.Backend;
import brain2img.backend.CpuBackend;
import brain2img.io.FormatException;
import brain2img.io.Npy;
import brain2img.tensor.Tensor;
import brain2img.testing.Assert;
import brain2img.testing.Shared;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shapes, batching, feature hooks and load errors on the tiny U-Net. */
class UNetBehaviourTest {
    /**
     * Pure Java: its GEMM sums in an order that does not depend on the number of rows, so a batch can be held to
     * its items bit for bit (OpenBLAS's edge kernels round differently by about 1e-6 when the row count changes).
     */
    private static final Backend BE = CpuBackend.pureJava();
    private static UNet unet;
    private static Tensor goldenContext;

    @BeforeAll
    static void load() {
        Path tiny = Shared.sdTiny();
        try (SdSource src = SdSource.open(tiny.resolve("weights"), null)) {
            unet = UNet.load(src, BE);
        }
        goldenContext = Npy.read(tiny.resolve("cases/unet_in_context.npy"));
    }

    private static Tensor gaussian(long seed, long... shape) {
        Random r = new Random(seed);
        float[] d = new float[Math.toIntExact(Tensor.numel(shape))];
        for (int i = 0; i < d.length; i++) d[i] = (float) r.nextGaussian();
        return Tensor.of(d, shape);
    }

    /**
     * A non-square batch of two: right shape, finite, and each item equal to running it alone with its own
     * timestep and context, bit for bit (no mixing across the batch, whatever the layout of h ≠ w).
     */
    @Test
    void nonSquareBatchMatchesItemByItem() {
        Tensor latent = gaussian(1, 2, 4, 16, 8);
        Tensor ctx = goldenContext.slice(0, 2).copy();
        float[] t = {981f, 13.5f};
        Tensor eps = unet.predict(latent, t, ctx);
        assertArrayEquals(new long[]{2, 4, 16, 8}, eps.shape());
        for (float v : eps.toFloatArray()) assertTrue(Float.isFinite(v));
        for (int b = 0; b < 2; b++) {
            Tensor one = unet.predict(latent.slice(b, b + 1).copy(), new float[]{t[b]}, ctx.slice(b, b + 1).copy());
            Assert.assertClose(one, eps.slice(b, b + 1), 0, "item " + b);
        }
    }

    @Test
    void oneTimestepIsUsedForTheWholeBatch() {
        Tensor latent = gaussian(2, 2, 4, 8, 8);
        Tensor ctx = goldenContext.slice(0, 2).copy();
        Assert.assertClose(unet.predict(latent, new float[]{500f, 500f}, ctx), unet.predict(latent, new float[]{500f}, ctx), 0, "broadcast t");
    }

    @Test
    void hookSeesEveryBlockWithItsShape() {
        Map<String, long[]> seen = new LinkedHashMap<>();
        unet.predict(gaussian(3, 1, 4, 8, 16), new float[]{1f}, goldenContext.slice(0, 1).copy(),
                (name, act) -> seen.put(name, act.shape()));
        assertEquals(Set.of("conv_in", "down_blocks.0", "down_blocks.1", "down_blocks.2", "down_blocks.3", "mid_block",
                "up_blocks.0", "up_blocks.1", "up_blocks.2", "up_blocks.3"), seen.keySet());
        assertArrayEquals(new long[]{1, 32, 4, 8}, seen.get("down_blocks.0"));   // after the first downsampler
        assertArrayEquals(new long[]{1, 64, 1, 2}, seen.get("mid_block"));
        assertArrayEquals(new long[]{1, 64, 2, 4}, seen.get("up_blocks.0"));
        assertArrayEquals(new long[]{1, 32, 8, 16}, seen.get("up_blocks.3"));
    }

    /** Sides that do not halve evenly: ⌈n/2⌉ per downsampler, and the up path returns to each skip's size. */
    @Test
    void oddLatentSidesGoDownByCeilingAndBackToEachSkip() {
        Map<String, long[]> seen = new LinkedHashMap<>();
        Tensor eps = unet.predict(gaussian(4, 1, 4, 5, 7), new float[]{1f}, goldenContext.slice(0, 1).copy(),
                (name, act) -> seen.put(name, act.shape()));
        assertArrayEquals(new long[]{1, 4, 5, 7}, eps.shape());
        assertArrayEquals(new long[]{1, 32, 3, 4}, seen.get("down_blocks.0"));
        assertArrayEquals(new long[]{1, 64, 1, 1}, seen.get("mid_block"));
        assertArrayEquals(new long[]{1, 64, 2, 2}, seen.get("up_blocks.0"));
        assertArrayEquals(new long[]{1, 64, 3, 4}, seen.get("up_blocks.1"));
        assertArrayEquals(new long[]{1, 64, 5, 7}, seen.get("up_blocks.2"));
        assertArrayEquals(new long[]{1, 32, 5, 7}, seen.get("up_blocks.3"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> unet.predict(Tensor.zeros(1, 4, 0, 8), new float[]{1f}, goldenContext.slice(0, 1).copy()));
        assertTrue(e.getMessage().contains("h, w ≥ 1") && e.getMessage().contains("[1, 4, 0, 8]"), e.getMessage());
    }

    /** The tiny diffusers weights with one tensor removed and one cut short. */
    private record Damaged(TensorSource base, String missing, String misshaped) implements TensorSource {
        public String describe() { return "damaged.safetensors"; }
        public Set<String> names() { return base.names(); }
        public boolean contains(String name) { return !name.equals(missing) && base.contains(name); }
        public Tensor get(String name) {
            Tensor t = base.get(name);
            return name.equals(misshaped) ? t.reshape(-1).slice(0, t.numel() - 1) : t;
        }
    }

    @Test
    void missingAndMisshapedTensorsAreNamed() {
        try (SdSource src = SdSource.open(Shared.sdTiny().resolve("weights"), null)) {
            TensorSource base = src.component(SdSource.UNET, KeyMapping.IDENTITY);
            String missing = "up_blocks.2.attentions.1.transformer_blocks.0.attn2.to_k.weight";
            String bad = "down_blocks.0.resnets.1.conv1.weight";
            FormatException e = assertThrows(FormatException.class,
                    () -> UNet.build(unet.config(), new Damaged(base, missing, bad), BE));
            String m = e.getMessage();
            assertTrue(m.startsWith("damaged.safetensors: 2 U-Net tensor(s)"), m);
            assertTrue(m.contains("missing '" + missing + "' [64, 32]"), m);
            assertTrue(m.contains("'" + bad + "' has shape [9215], expected [32, 32, 3, 3]"), m);
        }
    }
}
