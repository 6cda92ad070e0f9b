package brain2img.dir;

import brain2img.io.SafeTensors;
import brain2img.io.WeightFile;
import brain2img.tensor.Tensor;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static brain2img.dir.DeepSimGeneratorTest.resource;

/**
 * The reduced random VGG19 of {@code vgg_tiny.safetensors} under Caffe names (conv1_1 … fc8), for the generator
 * prior, which draws Caffe input; at 224² its pool5 is 32×7×7, what its fc6 reads.
 */
public final class TinyVggCaffe {
    static final List<String> CAFFE = List.of("conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3", "conv3_4", "conv4_1",
            "conv4_2", "conv4_3", "conv4_4", "conv5_1", "conv5_2", "conv5_3", "conv5_4", "fc6", "fc7", "fc8");

    private TinyVggCaffe() {}

    /** Writes the renamed weights to {@code file} and returns it. */
    public static Path write(Path file) throws Exception {
        List<String> torch = ReconstructTinyVggTest.NODES;
        Map<String, Tensor> renamed = new LinkedHashMap<>();
        try (WeightFile f = WeightFile.open(resource("vgg_tiny.safetensors"))) {
            for (int i = 0; i < CAFFE.size(); i++) {
                renamed.put(CAFFE.get(i) + ".weight", f.getF32(torch.get(i) + ".weight").copy());
                renamed.put(CAFFE.get(i) + ".bias", f.getF32(torch.get(i) + ".bias").copy());
            }
        }
        SafeTensors.write(file, renamed, Map.of());
        return file;
    }
}
