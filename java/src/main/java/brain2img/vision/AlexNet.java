package brain2img.vision;

import brain2img.backend.Backend;
import brain2img.io.WeightFile;

/**
 * torchvision's AlexNet (the "one weird trick" variant, IMAGENET1K_V1 weights), nodes named as
 * {@code create_feature_extractor} names them. Shapes at 224² (channel counts are read from the weights):
 * <pre>
 * features.0  conv 11×11 /4 pad 2   (N,64,55,55)    features.1 relu   features.2 max 3 /2  (N,64,27,27)
 * features.3  conv 5×5 pad 2        (N,192,27,27)   features.4 relu   features.5 max 3 /2  (N,192,13,13)
 * features.6  conv 3×3 pad 1        (N,384,13,13)   features.7 relu
 * features.8  conv 3×3 pad 1        (N,256,13,13)   features.9 relu
 * features.10 conv 3×3 pad 1        (N,256,13,13)   features.11 relu  features.12 max 3 /2 (N,256,6,6)
 * avgpool     adaptive 6×6          (N,256,6,6)     flatten (N,9216)
 * classifier  .0 dropout, .1 linear (N,4096), .2 relu, .3 dropout, .4 linear (N,4096), .5 relu, .6 linear (N,1000)
 * </pre>
 */
final class AlexNet extends SequentialNet {

    AlexNet(WeightFile file, Backend be) {
        super("alexnet", file, be, new InputSpace(224, false, IMAGENET_MEAN, IMAGENET_STD));
        conv("features.0", "features.0", 4, 2);
        relu("features.1");
        maxPool("features.2", 3, 2, false);
        conv("features.3", "features.3", 1, 2);
        relu("features.4");
        maxPool("features.5", 3, 2, false);
        conv("features.6", "features.6", 1, 1);
        relu("features.7");
        conv("features.8", "features.8", 1, 1);
        relu("features.9");
        conv("features.10", "features.10", 1, 1);
        relu("features.11");
        maxPool("features.12", 3, 2, false);
        adaptiveAvgPool("avgpool", 6);
        flatten("flatten");
        dropout("classifier.0");
        linear("classifier.1", "classifier.1");
        relu("classifier.2");
        dropout("classifier.3");
        linear("classifier.4", "classifier.4");
        relu("classifier.5");
        linear("classifier.6", "classifier.6");
    }
}
