package brain2img.sd;

import brain2img.cuda.CudaBackend;
import brain2img.io.Npy;
import brain2img.tensor.Tensor;
import brain2img.testing.GpuTest;
import brain2img.testing.Shared;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;

import static brain2img.testing.Assert.assertClose;
import static brain2img.testing.Assert.relErr;

/**
 * The whole tiny model on the CUDA backend against the diffusers goldens of {@code shared/golden/sd-tiny}: U-Net
 * eps, VAE posterior and decode, CLIP text hidden states, and a 10-step guided img2img latent. fp32 mode must
 * meet the CPU backend's 1e-4 relative bound; fp16 mode (weights stored half, GEMMs with fp32 accumulation)
 * 1e-2. Each error is printed with a {@code [gpu]} tag so gpu-check's summary shows it.
 */
@GpuTest
class SdTinyGpuTest {
    enum Mode {
        FP32(CudaBackend.Precision.FP32, 1e-4), FP16(CudaBackend.Precision.FP16, 1e-2);

        final CudaBackend.Precision precision;
        final double tol;

        Mode(CudaBackend.Precision precision, double tol) {
            this.precision = precision;
            this.tol = tol;
        }
    }

    private static final Map<Mode, CudaBackend> BACKENDS = new EnumMap<>(Mode.class);
    private static SdSource src;

    @BeforeAll
    static void open() {
        src = SdSource.open(Shared.sdTiny().resolve("weights"), null);
    }

    @AfterAll
    static void close() {
        BACKENDS.values().forEach(CudaBackend::close);
        if (src != null) src.close();
    }

    /** One backend per precision, opened on first use (its weight cache then serves every test of that mode). */
    private static CudaBackend backend(Mode m) {
        return BACKENDS.computeIfAbsent(m, k -> new CudaBackend(k.precision));
    }

    private static Tensor golden(String name) {
        return Npy.read(Shared.sdTiny().resolve("cases").resolve(name + ".npy"));
    }

    /** Asserts within the mode's bound and logs the measured relative error. */
    private static void check(Mode m, CudaBackend be, String name, Tensor got) {
        Tensor ref = golden(name);
        Tensor host = be.download(got);
        System.out.printf("[gpu] sd-tiny %s %s: relative error %.2e (bound %.0e)%n", m, name, relErr(host.toFloatArray(), ref.toFloatArray()), m.tol);
        assertClose(ref, host, m.tol, m + " " + name);
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void unetEps(Mode m) {
        CudaBackend be = backend(m);
        UNet unet = UNet.load(src, be);
        float[] t = golden("unet_in_timesteps").toFloatArray();
        Tensor eps = unet.predict(be.upload(golden("unet_in_latent")), t, be.upload(golden("unet_in_context")));
        check(m, be, "unet_out_eps", eps);
    }

    /** A latent whose sides do not halve evenly (5×7 → 3×4 → 2×2 → 1×1): the resize-to-skip kernel on the device. */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void unetEpsAnySize(Mode m) {
        CudaBackend be = backend(m);
        UNet unet = UNet.load(src, be);
        Path cases = Shared.require("golden/sd-tiny/cases-anysize");
        float[] t = Npy.read(cases.resolve("unet_in_timesteps_5x7.npy")).toFloatArray();
        Tensor eps = unet.predict(be.upload(Npy.read(cases.resolve("unet_in_latent_5x7.npy"))), t,
                be.upload(Npy.read(cases.resolve("unet_in_context_5x7.npy"))));
        Tensor ref = Npy.read(cases.resolve("unet_out_eps_5x7.npy"));
        Tensor host = be.download(eps);
        System.out.printf("[gpu] sd-tiny %s unet_out_eps_5x7: relative error %.2e (bound %.0e)%n", m, relErr(host.toFloatArray(), ref.toFloatArray()), m.tol);
        assertClose(ref, host, m.tol, m + " unet_out_eps_5x7");
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void vaeEncodeDecode(Mode m) {
        CudaBackend be = backend(m);
        Vae vae = Vae.load(src, be);
        Vae.Posterior p = vae.encode(be.upload(golden("vae_in_image")));
        check(m, be, "vae_out_mean", p.mean());
        check(m, be, "vae_out_logvar", p.logvar());
        check(m, be, "vae_out_decoded", vae.decode(be.upload(golden("vae_in_latent"))));
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void clipTextHidden(Mode m) {
        CudaBackend be = backend(m);
        ClipTextEncoder enc = ClipTextEncoder.load(src, be);
        check(m, be, "text_hidden", enc.encode(golden("token_ids")));
    }

    /** The diffusers img2img of SamplerGoldenTest (10 steps at strength 0.8, guidance 5) on the device. */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void img2imgLatent(Mode m) {
        CudaBackend be = backend(m);
        Sampler sampler = new Sampler(UNet.load(src, be), DdimScheduler.load(src), be);
        Tensor latent = sampler.img2img(golden("img2img_in_latent"), golden("img2img_in_noise"), 0.8,
                Sampler.Convention.DIFFUSERS, golden("img2img_in_cond"), golden("img2img_in_uncond"),
                new Sampler.Settings(10, 5.0f, 0, 0), Sampler.Progress.NONE);
        check(m, be, "img2img_out_latent", latent);
    }
}
