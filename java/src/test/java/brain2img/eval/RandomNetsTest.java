package brain2img.eval;

import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The full-size layouts of the timing benchmark against torchvision 0.14's state_dict (and HF CLIP ViT-L/14). */
class RandomNetsTest {
    /** Tensors and values (num_batches_tracked dropped; ResNet without fc, Inception without AuxLogits), from torchvision itself. */
    @Test
    void keyAndValueCountsMatchTorchvision() {
        check(RandomNets.alexnet(), 16, 61_100_840L);
        check(RandomNets.resnet50(), 265, 23_561_152L);
        check(RandomNets.efficientnetB1(), 439, 7_856_232L);
        check(RandomNets.inception(), 472, 23_869_000L);
        // HF CLIPVisionModelWithProjection, ViT-L/14 (counted by hand, no transformers here): 3 embedding tensors,
        // pre/post LayerNorm 2 + 2, 24 layers × 16, the projection; 303,179,776 values in the tower + 786,432
        check(RandomNets.clip(), 392, 303_966_208L);
    }

    @Test
    void someShapesByName() {
        assertArrayEquals(new long[]{192, 64, 5, 5}, RandomNets.alexnet().get("features.3.weight"));
        assertArrayEquals(new long[]{2048, 1024, 1, 1}, RandomNets.resnet50().get("layer4.0.downsample.0.weight"));
        assertArrayEquals(new long[]{192, 160, 7, 1}, RandomNets.inception().get("Mixed_6c.branch7x7_3.conv.weight"));
        assertArrayEquals(new long[]{1920, 1, 3, 3}, RandomNets.efficientnetB1().get("features.7.1.block.1.0.weight"));
        assertArrayEquals(new long[]{1152, 1, 5, 5}, RandomNets.efficientnetB1().get("features.6.4.block.1.0.weight"));
        assertArrayEquals(new long[]{257, 1024}, RandomNets.clip().get("vision_model.embeddings.position_embedding.weight"));
    }

    private static void check(Map<String, long[]> shapes, int tensors, long values) {
        assertEquals(tensors, shapes.size());
        assertEquals(values, shapes.values().stream().mapToLong(Tensor::numel).sum());
    }
}
