package brain2img.backend;

import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The conv2d geometry both backends share: output sizes by hand, the 1×1 fast-path flag, and the rejections. */
class Conv2dShapeTest {

    @Test
    void outputSizeFollowsTheFloorFormula() {
        // SD's downsampler: 3×3, stride 2, padding (0,1,0,1) on 64×64 → 32×32; an odd 7×5 input with padding 1 → 4×3
        Conv2dShape d = Conv2dShape.of(Tensor.zeros(2, 4, 64, 64), Tensor.zeros(8, 4, 3, 3), 2, 2, 0, 1, 0, 1);
        assertEquals(new Conv2dShape(2, 4, 64, 64, 8, 3, 3, 32, 32, false), d);
        Conv2dShape odd = Conv2dShape.of(Tensor.zeros(1, 3, 7, 5), Tensor.zeros(5, 3, 3, 3), 2, 2, 1, 1, 1, 1);
        assertEquals(4, odd.outHeight());   // (7 + 2 − 3) / 2 + 1
        assertEquals(3, odd.outWidth());    // (5 + 2 − 3) / 2 + 1
    }

    @Test
    void pointwiseOnlyForOneByOneStrideOneUnpadded() {
        Tensor x = Tensor.zeros(1, 4, 6, 6), w1 = Tensor.zeros(2, 4, 1, 1);
        assertTrue(Conv2dShape.of(x, w1, 1, 1, 0, 0, 0, 0).pointwise());
        assertFalse(Conv2dShape.of(x, w1, 2, 1, 0, 0, 0, 0).pointwise());
        assertFalse(Conv2dShape.of(x, w1, 1, 1, 0, 1, 0, 0).pointwise());
        assertFalse(Conv2dShape.of(x, Tensor.zeros(2, 4, 3, 1), 1, 1, 1, 1, 0, 0).pointwise());
    }

    @Test
    void rejectsWrongRanksChannelsAndEmptyOutputs() {
        IllegalArgumentException ch = assertThrows(IllegalArgumentException.class,
                () -> Conv2dShape.of(Tensor.zeros(1, 3, 4, 4), Tensor.zeros(2, 4, 3, 3), 1, 1, 1, 1, 1, 1));
        assertEquals("conv2d: input f32[1, 3, 4, 4] and weight f32[2, 4, 3, 3] must be (B,C,H,W) and (O,C,kh,kw)", ch.getMessage());
        IllegalArgumentException rank = assertThrows(IllegalArgumentException.class,
                () -> Conv2dShape.of(Tensor.zeros(3, 4, 4), Tensor.zeros(2, 3, 3, 3), 1, 1, 0, 0, 0, 0));
        assertEquals("conv2d: input f32[3, 4, 4] and weight f32[2, 3, 3, 3] must be (B,C,H,W) and (O,C,kh,kw)", rank.getMessage());
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> Conv2dShape.of(Tensor.zeros(1, 3, 2, 2), Tensor.zeros(2, 3, 3, 3), 1, 1, 0, 0, 0, 0));
        assertTrue(empty.getMessage().startsWith("conv2d: output would be empty for "), empty.getMessage());
    }
}
