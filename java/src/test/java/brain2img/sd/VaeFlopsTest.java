package brain2img.sd;

import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The VAE's analytic FLOP count against the work the model issues, and SD v1's decode against a hand count. */
class VaeFlopsTest {

    @Test
    void analyticCountsEqualTheIssuedWork() {
        UNetFlopsTest.Counting be = new UNetFlopsTest.Counting();
        VaeConfig cfg = RandomWeights.vaeConfig("tiny");
        Vae vae = RandomWeights.vae(cfg, be, 3);
        vae.decode(Tensor.zeros(1, 4, 2, 3));
        assertEquals(VaeFlops.decode(cfg, 2, 3), be.flops, "decode FLOPs");
        be.flops = 0;
        vae.encode(Tensor.zeros(1, 3, 16, 24));
        assertEquals(VaeFlops.encode(cfg, 16, 24), be.flops, "encode FLOPs");
    }

    /**
     * SD v1 decode of a 64×64 latent, summed by hand per block (GFLOP): conv_in 0.15, mid 120.3 (4 convs 77.3,
     * projections 8.6, attention products 34.4), up 0: 193.3, up 1: 773.1, up 2: 867.6, up 3: 558.3, conv_out 1.8;
     * 2514.5 GFLOP, the 2.5 TFLOP.
     */
    @Test
    void sdV1DecodeTo512IsTwoPointFiveTeraflop() {
        long f = VaeFlops.decode(RandomWeights.vaeConfig("v1"), 64, 64);
        assertEquals(2514.52e9, f, 0.01e9);
    }
}
