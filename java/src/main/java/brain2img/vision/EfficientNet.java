package brain2img.vision;

import brain2img.backend.Backend;
import brain2img.io.WeightFile;
import brain2img.tensor.Tensor;
import brain2img.vision.grad.Tape;

import java.util.ArrayList;
import java.util.List;

/**
 * torchvision's EfficientNet-B1 (MBConv blocks with squeeze-excitation, SiLU, BatchNorm eps 1e-5 folded).
 * The seven stages keep B1's kernel strides (1,2,2,2,1,2,1) and expansion (none in stage 1); blocks per stage
 * (2,3,3,4,4,5,2 at full size) and widths are read from the weights. Stochastic depth and dropout are the
 * identity at inference. Nodes, at 240²:
 * <pre>
 * features.0    conv 3×3 /2 + bn + SiLU       (N,32,120,120)
 * features.1…7  MBConv stages; features.S.B is block B's output
 *               (N,16,120,120) (N,24,60,60) (N,40,30,30) (N,80,15,15) (N,112,15,15) (N,192,8,8) (N,320,8,8)
 * features.8    conv 1×1 + bn + SiLU          (N,1280,8,8)
 * avgpool (N,1280,1,1), flatten (N,1280), classifier.0 dropout, classifier.1 linear (N,1000)
 * </pre>
 */
final class EfficientNet extends CnnNet {
    private static final double EPS = 1e-5;
    private static final int[] STRIDES = {1, 2, 2, 2, 1, 2, 1};
    private static final int[] STANDARD_BLOCKS = {2, 3, 3, 4, 4, 5, 2};

    /** expand (null in stage 1) → depthwise → squeeze-excitation → project, with a residual when shapes allow. */
    private record MBConv(Layers.Conv expand, Layers.Conv depthwise, Layers.Conv se1, Layers.Conv se2,
                          Layers.Conv project, boolean residual) {
        Tensor apply(Tape t, Tensor x) {
            Tensor y = expand == null ? x : t.silu(expand.apply(t, x));
            y = t.silu(depthwise.apply(t, y));
            Tensor s = t.adaptiveAvgPool2d(y, 1, 1);
            s = t.sigmoid(se2.apply(t, t.silu(se1.apply(t, s))));
            y = project.apply(t, t.scaleChannels(y, s));
            return residual ? t.add(y, x) : y;
        }
    }

    private final Layers.Conv stem, head;
    private final List<List<MBConv>> stages = new ArrayList<>();
    private final Layers.Linear classifier;

    EfficientNet(WeightFile file, Backend be) {
        super("efficientnet_b1", file, "", be, new InputSpace(240, false, IMAGENET_MEAN, IMAGENET_STD));
        node("features.0");
        stem = Layers.conv(params, "features.0.0", false, "features.0.1", EPS, 3, 1, 2, Layers.SAME, Layers.SAME);
        long width = stem == null ? -1 : stem.outChannels();
        for (int s = 1; s <= STRIDES.length; s++) {
            List<MBConv> blocks = new ArrayList<>();
            int count = countBlocks(s);
            for (int b = 0; b < count; b++) {
                String k = "features." + s + "." + b + ".block.";
                node("features." + s + "." + b);
                int stride = b == 0 ? STRIDES[s - 1] : 1;
                int i = 0;
                Layers.Conv expand = null;
                if (s > 1) {
                    expand = Layers.conv(params, k + "0.0", false, k + "0.1", EPS, width, 1, 1, 0);
                    i = 1;
                }
                long expanded = s > 1 ? (expand == null ? -1 : expand.outChannels()) : width;
                Layers.Conv dw = depthwise(k + i, expanded, stride);
                Layers.Conv se1 = Layers.conv(params, k + (i + 1) + ".fc1", true, null, 0, expanded, 1, 1, 0);
                Layers.Conv se2 = Layers.conv(params, k + (i + 1) + ".fc2", true, null, 0, se1 == null ? -1 : se1.outChannels(), 1, 1, 0);
                Layers.Conv project = Layers.conv(params, k + (i + 2) + ".0", false, k + (i + 2) + ".1", EPS, expanded, 1, 1, 0);
                long out = project == null ? -1 : project.outChannels();
                blocks.add(new MBConv(expand, dw, se1, se2, project, stride == 1 && out == width && width > 0));
                width = out;
            }
            node("features." + s);
            stages.add(blocks);
        }
        node("features.8");
        head = Layers.conv(params, "features.8.0", false, "features.8.1", EPS, width, 1, 1, 0);
        node("avgpool");
        node("flatten");
        node("classifier.0");
        node("classifier.1");
        classifier = Layers.linear(params, "classifier.1", head == null ? -1 : head.outChannels());
    }

    /** The k×k depthwise conv (groups = channels), "same" padding; its channel count must equal the expansion's. */
    private Layers.Conv depthwise(String key, long channels, int stride) {
        Tensor w = params.has(key + ".0.weight") ? params.host(key + ".0.weight", -1, 1, -1, -1) : null;
        int groups = w != null ? w.dimInt(0) : 1;
        if (w != null && channels > 0 && groups != channels) {
            params.problem("'" + key + ".0.weight' has " + groups + " channels, expected " + channels);
            return null;
        }
        return Layers.conv(params, key + ".0", false, key + ".1", EPS, groups, groups, stride, Layers.SAME, Layers.SAME);
    }

    private int countBlocks(int s) {
        int n = 0;
        while (params.has("features." + s + "." + n + ".block.0.0.weight")) n++;
        return n > 0 ? n : STANDARD_BLOCKS[s - 1];
    }

    @Override
    void forward(Tape t, Tensor x, Capture c) {
        x = t.silu(stem.apply(t, x));
        if (c.put("features.0", x)) return;
        for (int s = 0; s < stages.size(); s++) {
            List<MBConv> blocks = stages.get(s);
            for (int b = 0; b < blocks.size(); b++) {
                x = blocks.get(b).apply(t, x);
                if (c.put("features." + (s + 1) + "." + b, x)) return;
            }
            if (c.put("features." + (s + 1), x)) return;
        }
        x = t.silu(head.apply(t, x));
        if (c.put("features.8", x)) return;
        x = t.adaptiveAvgPool2d(x, 1, 1);
        if (c.put("avgpool", x)) return;
        x = t.flatten(x);
        if (c.put("flatten", x) || c.put("classifier.0", x)) return;
        c.put("classifier.1", classifier.apply(t, x));
    }
}
