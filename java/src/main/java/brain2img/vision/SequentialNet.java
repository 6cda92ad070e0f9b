package brain2img.vision;

import brain2img.backend.Backend;
import brain2img.io.WeightFile;
import brain2img.tensor.Tensor;
import brain2img.vision.grad.Tape;

import java.util.ArrayList;
import java.util.List;

/**
 * A network that is one chain of nodes (AlexNet, VGG): each node is one layer, as in a torch Sequential, and
 * the builder methods load each layer under its node's stage.
 */
abstract class SequentialNet extends CnnNet {
    interface Op {
        Tensor apply(Tape t, Tensor x);
    }

    private final List<Op> ops = new ArrayList<>();
    private final List<String> names = new ArrayList<>();
    /** Channels (or features, after flatten) the next layer receives; -1 once unknown after a problem. */
    long width = 3;

    SequentialNet(String arch, WeightFile file, Backend be, InputSpace space) {
        super(arch, file, "", be, space);
    }

    private void add(String node, Op op) {
        names.add(node);
        ops.add(op);
    }

    /** A convolution node (its output is before the ReLU that follows it); key defaults to the node name. */
    final void conv(String node, String key, int stride, int pad) {
        node(node);
        Layers.Conv c = Layers.conv(params, key, true, null, 0, width, 1, stride, pad);
        width = c == null ? -1 : c.outChannels();
        add(node, c == null ? null : c::apply);
    }

    final void relu(String node) {
        node(node);
        add(node, Tape::relu);
    }

    final void maxPool(String node, int k, int s, boolean ceil) {
        node(node);
        add(node, (t, x) -> t.maxPool2d(x, k, s, 0, ceil));
    }

    final void adaptiveAvgPool(String node, int size) {
        node(node);
        add(node, (t, x) -> t.adaptiveAvgPool2d(x, size, size));
        if (width > 0) width *= (long) size * size;    // what flatten will hand on
    }

    final void flatten(String node) {
        node(node);
        add(node, Tape::flatten);
    }

    /** Dropout is the identity at inference. */
    final void dropout(String node) {
        node(node);
        add(node, (t, x) -> x);
    }

    /** A linear node reading {@code key.weight} (out, in) with in = the current width (any, if unknown). */
    final void linear(String node, String key) {
        node(node);
        Layers.Linear l = Layers.linear(params, key, width);
        width = l == null ? -1 : l.w().dim(0);
        add(node, l == null ? null : l::apply);
    }

    /** A linear node on its flattened input (Caffe's fc6 after pool5, no avgpool): any input width is read. */
    final void flatLinear(String node, String key) {
        node(node);
        Layers.Linear l = Layers.linear(params, key, -1);
        width = l == null ? -1 : l.w().dim(0);
        add(node, l == null ? null : (t, x) -> l.apply(t, t.flatten(x)));
    }

    @Override
    void forward(Tape t, Tensor x, Capture c) {
        for (int i = 0; i < ops.size(); i++) {
            x = ops.get(i).apply(t, x);
            if (c.put(names.get(i), x)) return;
        }
    }
}
