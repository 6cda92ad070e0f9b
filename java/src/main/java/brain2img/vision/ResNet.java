package brain2img.vision;

import brain2img.backend.Backend;
import brain2img.io.WeightFile;
import brain2img.tensor.Tensor;
import brain2img.vision.grad.Tape;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * torchvision's ResNet-50 (v1.5: the stride sits on each bottleneck's 3×3 conv), BatchNorm folded. Also loads
 * SwAV's checkpoints: keys prefixed {@code module.}, {@code projection_head.*} and {@code prototypes.*}
 * ignored (a one-line note says so), and no {@code fc}, which only the {@code fc} node needs. Blocks per
 * layer are counted from the weights (3,4,6,3 at full size); widths are read from them.
 * <pre>
 * bn1      conv1 7×7 /2 pad 3 + bn1   (N,64,112,112) at 224²     relu, maxpool 3 /2 pad 1 (N,64,56,56)
 * layer1   bottlenecks, stride 1      (N,256,56,56)             layerL.B: the output of block B
 * layer2   first block stride 2       (N,512,28,28)
 * layer3                              (N,1024,14,14)
 * layer4                              (N,2048,7,7)
 * avgpool  (N,2048,1,1), flatten (N,2048), fc (N,1000)
 * </pre>
 * The {@code conv1} node is not offered: with BatchNorm folded, {@code bn1} is the first output.
 */
final class ResNet extends CnnNet {
    private static final int[] STANDARD_BLOCKS = {3, 4, 6, 3};
    private static final double EPS = 1e-5;

    /** One bottleneck: 1×1 reduce, 3×3 (stride), 1×1 expand, optional projection of the shortcut. */
    private record Bottleneck(Layers.Conv conv1, Layers.Conv conv2, Layers.Conv conv3, Layers.Conv downsample) {
        Tensor apply(Tape t, Tensor x) {
            Tensor y = t.relu(conv1.apply(t, x));
            y = t.relu(conv2.apply(t, y));
            y = conv3.apply(t, y);
            Tensor shortcut = downsample == null ? x : downsample.apply(t, x);
            return t.relu(t.add(y, shortcut));
        }
    }

    private final Layers.Conv stem;
    private final List<List<Bottleneck>> layers = new ArrayList<>();
    private final Layers.Linear fc;

    ResNet(WeightFile file, Backend be, PrintStream notes) {
        super("resnet50", file, swav(file) ? "module." : "", be, new InputSpace(224, false, IMAGENET_MEAN, IMAGENET_STD));
        if (swav(file) && notes != null) {
            long extra = file.names().stream().filter(n -> n.startsWith("module.projection_head.") || n.startsWith("module.prototypes.")).count();
            notes.println("note: SwAV checkpoint: 'module.' prefix stripped, " + extra + " projection_head/prototypes tensors ignored");
        }
        node("bn1");
        stem = Layers.conv(params, "conv1", false, "bn1", EPS, 3, 1, 2, 3);
        node("relu");
        node("maxpool");
        long width = stem == null ? -1 : stem.outChannels();
        for (int l = 1; l <= 4; l++) {
            List<Bottleneck> blocks = new ArrayList<>();
            int count = countBlocks(l);
            for (int b = 0; b < count; b++) {
                String k = "layer" + l + "." + b;
                node(k);
                int stride = b == 0 && l > 1 ? 2 : 1;
                Layers.Conv c1 = Layers.conv(params, k + ".conv1", false, k + ".bn1", EPS, width, 1, 1, 0);
                Layers.Conv c2 = Layers.conv(params, k + ".conv2", false, k + ".bn2", EPS, c1 == null ? -1 : c1.outChannels(), 1, stride, 1);
                Layers.Conv c3 = Layers.conv(params, k + ".conv3", false, k + ".bn3", EPS, c2 == null ? -1 : c2.outChannels(), 1, 1, 0);
                boolean project = params.has(k + ".downsample.0.weight") || (b == 0 && !params.has(k + ".conv1.weight"));
                Layers.Conv ds = project ? Layers.conv(params, k + ".downsample.0", false, k + ".downsample.1", EPS, width, 1, stride, 0) : null;
                blocks.add(new Bottleneck(c1, c2, c3, ds));
                width = c3 == null ? -1 : c3.outChannels();
            }
            node("layer" + l);
            layers.add(blocks);
        }
        node("avgpool");
        node("flatten");
        node("fc");
        fc = Layers.linear(params, "fc", width);
    }

    private static boolean swav(WeightFile f) {
        return f != null && f.contains("module.conv1.weight");
    }

    /** Blocks present in the weights for layer l, or the standard count where the weights hold none. */
    private int countBlocks(int l) {
        int n = 0;
        while (params.has("layer" + l + "." + n + ".conv1.weight")) n++;
        return n > 0 ? n : STANDARD_BLOCKS[l - 1];
    }

    @Override
    void forward(Tape t, Tensor x, Capture c) {
        x = stem.apply(t, x);
        if (c.put("bn1", x)) return;
        x = t.relu(x);
        if (c.put("relu", x)) return;
        x = t.maxPool2d(x, 3, 2, 1, false);
        if (c.put("maxpool", x)) return;
        for (int l = 0; l < layers.size(); l++) {
            List<Bottleneck> blocks = layers.get(l);
            for (int b = 0; b < blocks.size(); b++) {
                x = blocks.get(b).apply(t, x);
                if (c.put("layer" + (l + 1) + "." + b, x)) return;
            }
            if (c.put("layer" + (l + 1), x)) return;
        }
        x = t.adaptiveAvgPool2d(x, 1, 1);
        if (c.put("avgpool", x)) return;
        x = t.flatten(x);
        if (c.put("flatten", x)) return;
        c.put("fc", fc.apply(t, x));
    }
}
