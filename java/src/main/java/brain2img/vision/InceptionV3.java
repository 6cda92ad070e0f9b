package brain2img.vision;

import brain2img.backend.Backend;
import brain2img.io.Json;
import brain2img.io.WeightFile;
import brain2img.tensor.Tensor;
import brain2img.vision.grad.Tape;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * torchvision's Inception v3 (IMAGENET1K_V1), BatchNorm (eps 1e-3) folded into each BasicConv2d, the
 * auxiliary head ignored. {@code transform_input} is on by default as for the pretrained weights: the net takes
 * ImageNet-normalised input and maps each channel to (x·std + mean − 0.5)/0.5 itself; a config JSON
 * {@code {"transform_input": false}} turns it off. Widths are read from the weights. Nodes, at 299²:
 * <pre>
 * Conv2d_1a_3x3 /2 (N,32,149,149)  Conv2d_2a_3x3 (N,32,147,147)  Conv2d_2b_3x3 pad 1 (N,64,147,147)
 * maxpool1 3 /2 (N,64,73,73)  Conv2d_3b_1x1 (N,80,73,73)  Conv2d_4a_3x3 (N,192,71,71)  maxpool2 (N,192,35,35)
 * Mixed_5b/5c/5d  InceptionA (N,256|288|288,35,35)   Mixed_6a InceptionB (N,768,17,17)
 * Mixed_6b…6e     InceptionC (N,768,17,17)           Mixed_7a InceptionD (N,1280,8,8)
 * Mixed_7b/7c     InceptionE (N,2048,8,8)            avgpool (N,2048,1,1), dropout, flatten (N,2048), fc (N,1000)
 * </pre>
 * A BasicConv2d node's output is after its ReLU (it is one module in torchvision).
 */
final class InceptionV3 extends CnnNet {
    private static final double EPS = 1e-3;
    private static final String[] STEM = {"Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1",
            "Conv2d_3b_1x1", "Conv2d_4a_3x3", "maxpool2"};

    interface Block {
        Tensor apply(Tape t, Tensor x);
    }

    private final boolean transformInput;
    private final List<String> order = new ArrayList<>();
    private final List<Block> blocks = new ArrayList<>();
    private final Layers.Linear fc;

    InceptionV3(WeightFile file, Path config, Backend be) {
        super("inception_v3", file, "", be, new InputSpace(299, false, IMAGENET_MEAN, IMAGENET_STD));
        transformInput = config == null || Json.read(config).path("transform_input").asBoolean(true);
        add("Conv2d_1a_3x3", basic("Conv2d_1a_3x3", 2, 0, 0));
        add("Conv2d_2a_3x3", basic("Conv2d_2a_3x3", 1, 0, 0));
        add("Conv2d_2b_3x3", basic("Conv2d_2b_3x3", 1, 1, 1));
        add("maxpool1", (t, x) -> t.maxPool2d(x, 3, 2, 0, false));
        add("Conv2d_3b_1x1", basic("Conv2d_3b_1x1", 1, 0, 0));
        add("Conv2d_4a_3x3", basic("Conv2d_4a_3x3", 1, 0, 0));
        add("maxpool2", (t, x) -> t.maxPool2d(x, 3, 2, 0, false));
        for (String m : new String[]{"Mixed_5b", "Mixed_5c", "Mixed_5d"}) add(m, inceptionA(m));
        add("Mixed_6a", inceptionB("Mixed_6a"));
        for (String m : new String[]{"Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"}) add(m, inceptionC(m));
        add("Mixed_7a", inceptionD("Mixed_7a"));
        for (String m : new String[]{"Mixed_7b", "Mixed_7c"}) add(m, inceptionE(m));
        add("avgpool", (t, x) -> t.adaptiveAvgPool2d(x, 1, 1));
        add("dropout", (t, x) -> x);
        add("flatten", Tape::flatten);
        node("fc");
        fc = Layers.linear(params, "fc", -1);
    }

    private void add(String name, Block b) {
        node(name);
        order.add(name);
        blocks.add(b);
    }

    /** BasicConv2d: conv (no bias) + folded bn + ReLU; padding per axis. */
    private Block basic(String key, int stride, int padH, int padW) {
        Layers.Conv c = Layers.conv(params, key + ".conv", false, key + ".bn", EPS, -1, 1, stride, padH, padW);
        return c == null ? null : (t, x) -> t.relu(c.apply(t, x));
    }

    /** A BasicConv2d with "same" padding read off its kernel (1×1, 3×3, 5×5, 1×7, 7×1, 1×3, 3×1). */
    private Block same(String key) {
        return basic(key, 1, Layers.SAME, Layers.SAME);
    }

    private static Block chain(Block... bs) {
        for (Block b : bs) if (b == null) return null;
        return (t, x) -> {
            for (Block b : bs) x = b.apply(t, x);
            return x;
        };
    }

    /** Branches run on the same input, concatenated along channels. */
    private static Block concat(Block... branches) {
        for (Block b : branches) if (b == null) return null;
        return (t, x) -> {
            List<Tensor> outs = new ArrayList<>();
            for (Block b : branches) outs.add(b.apply(t, x));
            return t.concatChannels(outs);
        };
    }

    private static final Block AVG3 = (t, x) -> t.avgPool2d(x, 3, 1, 1, false, true);
    private static final Block MAX3S2 = (t, x) -> t.maxPool2d(x, 3, 2, 0, false);

    private Block inceptionA(String m) {
        return concat(same(m + ".branch1x1"),
                chain(same(m + ".branch5x5_1"), same(m + ".branch5x5_2")),
                chain(same(m + ".branch3x3dbl_1"), same(m + ".branch3x3dbl_2"), same(m + ".branch3x3dbl_3")),
                chain(AVG3, same(m + ".branch_pool")));
    }

    private Block inceptionB(String m) {
        return concat(basic(m + ".branch3x3", 2, 0, 0),
                chain(same(m + ".branch3x3dbl_1"), same(m + ".branch3x3dbl_2"), basic(m + ".branch3x3dbl_3", 2, 0, 0)),
                MAX3S2);
    }

    private Block inceptionC(String m) {
        return concat(same(m + ".branch1x1"),
                chain(same(m + ".branch7x7_1"), same(m + ".branch7x7_2"), same(m + ".branch7x7_3")),
                chain(same(m + ".branch7x7dbl_1"), same(m + ".branch7x7dbl_2"), same(m + ".branch7x7dbl_3"),
                        same(m + ".branch7x7dbl_4"), same(m + ".branch7x7dbl_5")),
                chain(AVG3, same(m + ".branch_pool")));
    }

    private Block inceptionD(String m) {
        return concat(chain(same(m + ".branch3x3_1"), basic(m + ".branch3x3_2", 2, 0, 0)),
                chain(same(m + ".branch7x7x3_1"), same(m + ".branch7x7x3_2"), same(m + ".branch7x7x3_3"),
                        basic(m + ".branch7x7x3_4", 2, 0, 0)),
                MAX3S2);
    }

    private Block inceptionE(String m) {
        return concat(same(m + ".branch1x1"),
                chain(same(m + ".branch3x3_1"), concat(same(m + ".branch3x3_2a"), same(m + ".branch3x3_2b"))),
                chain(same(m + ".branch3x3dbl_1"), same(m + ".branch3x3dbl_2"),
                        concat(same(m + ".branch3x3dbl_3a"), same(m + ".branch3x3dbl_3b"))),
                chain(AVG3, same(m + ".branch_pool")));
    }

    @Override
    void forward(Tape t, Tensor x, Capture c) {
        if (transformInput) {
            // undo ImageNet normalisation, then (v − 0.5)/0.5: x·(std/0.5) + (mean − 0.5)/0.5 per channel
            float[] scale = new float[3], shift = new float[3];
            for (int i = 0; i < 3; i++) {
                scale[i] = IMAGENET_STD[i] / 0.5f;
                shift[i] = (IMAGENET_MEAN[i] - 0.5f) / 0.5f;
            }
            x = t.affineChannels(x, scale, shift);
        }
        for (int i = 0; i < blocks.size(); i++) {
            x = blocks.get(i).apply(t, x);
            if (c.put(order.get(i), x)) return;
        }
        c.put("fc", fc.apply(t, x));
    }
}
