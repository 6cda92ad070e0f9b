package brain2img.vision;

import brain2img.backend.Backend;
import brain2img.io.WeightFile;
import brain2img.tensor.Tensor;

import java.util.Map;

/**
 * VGG19 in two namings.
 *
 * <p>{@code vgg19}: torchvision's VGG (configuration "E", no BatchNorm), nodes {@code features.0} …
 * {@code features.36}, {@code avgpool} (adaptive 7×7), {@code flatten}, {@code classifier.0} … {@code .6}.
 * Also reads timm's {@code vgg19.tv_in1k} layout, where fc6/fc7 are stored conv-shaped as
 * {@code pre_logits.fc1} [4096,512,7,7] and {@code pre_logits.fc2} [4096,4096,1,1] and fc8 as {@code head.fc}.
 *
 * <p>{@code vgg19-caffe}: Kamitani's port of the original VGG_ILSVRC_19_layers (BGR 0–255 minus the mean pixel),
 * keys {@code conv1_1.weight} … {@code fc8.bias}, nodes {@code conv1_1} … {@code conv5_4}, {@code pool1} …
 * {@code pool5}, {@code fc6}, {@code fc7}, {@code fc8}; every conv and fc node is before its ReLU (Shen et
 * al.'s features). Caffe pools with ceil mode (the same as floor at sizes divisible by 32); fc6 reads the
 * flattened pool5, so the input must be 224² for the original weights.
 *
 * <pre>
 * block  convs (3×3, pad 1)  channels  at 224²
 * 1      2                   64        (N,64,224,224)  → max 2 /2
 * 2      2                   128       (N,128,112,112) → max 2 /2
 * 3      4                   256       (N,256,56,56)   → max 2 /2
 * 4      4                   512       (N,512,28,28)   → max 2 /2
 * 5      4                   512       (N,512,14,14)   → max 2 /2 (N,512,7,7)
 * fc6 (N,4096), fc7 (N,4096), fc8 (N,1000)
 * </pre>
 */
final class Vgg19 extends SequentialNet {
    /** Convolutions per block. */
    private static final int[] BLOCKS = {2, 2, 4, 4, 4};
    /** Caffe's ImageNet mean pixel in BGR order (ilsvrc_2012_mean averaged over the image). */
    static final float[] CAFFE_MEAN_BGR = {103.939f, 116.779f, 123.68f};

    private Vgg19(String arch, WeightFile file, Backend be, InputSpace space) {
        super(arch, file, be, space);
    }

    static Vgg19 torchvision(WeightFile file, Backend be) {
        Vgg19 n = new Vgg19("vgg19", file, be, new InputSpace(224, false, IMAGENET_MEAN, IMAGENET_STD));
        Map<String, Tensor> timm = file == null ? null : timmClassifier(file);
        if (timm != null) n.params.alias(timm);
        int i = 0;
        for (int convs : BLOCKS) {
            for (int k = 0; k < convs; k++, i += 2) {
                n.conv("features." + i, "features." + i, 1, 1);
                n.relu("features." + (i + 1));
            }
            n.maxPool("features." + i, 2, 2, false);
            i++;
        }
        n.adaptiveAvgPool("avgpool", 7);
        n.flatten("flatten");
        n.linear("classifier.0", "classifier.0");
        n.relu("classifier.1");
        n.dropout("classifier.2");
        n.linear("classifier.3", "classifier.3");
        n.relu("classifier.4");
        n.dropout("classifier.5");
        n.linear("classifier.6", "classifier.6");
        return n;
    }

    static Vgg19 caffe(WeightFile file, Backend be) {
        Vgg19 n = new Vgg19("vgg19-caffe", file, be, new InputSpace(224, true, CAFFE_MEAN_BGR.clone(), new float[]{1, 1, 1}));
        for (int b = 0; b < BLOCKS.length; b++) {
            for (int k = 1; k <= BLOCKS[b]; k++) {
                String name = "conv" + (b + 1) + "_" + k;
                n.conv(name, name, 1, 1);
                n.relu("relu" + (b + 1) + "_" + k);
            }
            n.maxPool("pool" + (b + 1), 2, 2, true);
        }
        n.flatLinear("fc6", "fc6");
        n.relu("relu6");
        n.linear("fc7", "fc7");
        n.relu("relu7");
        n.linear("fc8", "fc8");
        return n;
    }

    /**
     * timm's {@code vgg19.tv_in1k} tensors renamed to torchvision's, the conv-shaped fc6/fc7 viewed as
     * (out, in) matrices; null when the file is not in that layout.
     */
    static Map<String, Tensor> timmClassifier(WeightFile file) {
        if (!file.contains("pre_logits.fc1.weight")) return null;
        Map<String, String> names = Map.of("classifier.0", "pre_logits.fc1", "classifier.3", "pre_logits.fc2",
                "classifier.6", "head.fc");
        Map<String, Tensor> out = new java.util.HashMap<>();
        names.forEach((tv, timm) -> {
            if (file.contains(timm + ".weight")) {
                Tensor w = file.getF32(timm + ".weight");
                out.put(tv + ".weight", w.reshape(w.dim(0), w.numel() / w.dim(0)));
            }
            if (file.contains(timm + ".bias")) out.put(tv + ".bias", file.getF32(timm + ".bias"));
        });
        return out;
    }
}
