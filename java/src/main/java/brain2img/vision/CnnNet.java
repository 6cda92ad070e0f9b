package brain2img.vision;

import brain2img.backend.Backend;
import brain2img.io.FormatException;
import brain2img.tensor.Tensor;
import brain2img.util.Parallel;
import brain2img.vision.grad.Tape;

import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the CNNs share: node bookkeeping, the check that the weights of every stage up to the deepest requested
 * node are present, and the loss gradient through a recording {@link Tape}. A subclass loads its layers in
 * its constructor (calling {@link #node} for each node in forward order, before loading that node's weights)
 * and writes {@link #forward} once for both feature extraction and gradients.
 */
abstract class CnnNet implements VisionNet {
    /** ImageNet's RGB mean and std of torchvision's weights. */
    static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f}, IMAGENET_STD = {0.229f, 0.224f, 0.225f};

    final String arch;
    final Backend be;
    final Params params;
    private final Weights file;
    private final InputSpace space;
    private final List<String> nodes = new ArrayList<>();
    private long lastFlops;

    CnnNet(String arch, Weights file, String keyPrefix, Backend be, InputSpace space) {
        this.arch = arch;
        this.file = file;
        this.be = be;
        this.space = space;
        this.params = new Params(file, keyPrefix, be);
    }

    /** Declares the next node in forward order; weights read after this call belong to its stage. */
    final void node(String name) {
        params.stage(nodes.size());
        nodes.add(name);
    }

    /** Runs x (N,3,H,W) on the tape, putting each node's output into c, returning early once c is full. */
    abstract void forward(Tape t, Tensor x, Capture c);

    @Override
    public String arch() { return arch; }

    @Override
    public List<String> nodes() { return List.copyOf(nodes); }

    @Override
    public InputSpace inputSpace() { return space; }

    @Override
    public Map<String, Tensor> features(Tensor x, Collection<String> wanted) {
        prepare(x, wanted);
        Capture c = new Capture(wanted);
        Tape t = Tape.forward(be);
        forward(t, be.upload(x), c);
        lastFlops = t.flops();
        return c.result();
    }

    @Override
    public LossGradient lossGradient(Tensor x, Map<String, Tensor> targets, Map<String, Double> weights) {
        prepare(x, targets.keySet());
        Tape t = Tape.recording(be);
        Tensor in = t.input(be.upload(x));
        Capture c = new Capture(targets.keySet());
        forward(t, in, c);
        double loss = 0;
        Map<Tensor, Tensor> seeds = new IdentityHashMap<>();
        for (Map.Entry<String, Tensor> e : c.result().entrySet()) {
            Tensor phi = e.getValue(), target = targets.get(e.getKey());
            if (!phi.sameShape(target)) {
                throw new IllegalArgumentException("target for " + e.getKey() + " is " + target.shapeString()
                        + " but the node gives " + phi.shapeString());
            }
            double w = weights == null ? 1.0 : weights.getOrDefault(e.getKey(), 1.0);
            if (w == 0) continue;
            // ∂(w‖φ−t‖²)/∂φ = 2w(φ−t) in one pass; the loss term is then ‖2w(φ−t)‖² / 4w
            float s = (float) (2 * w);
            Tensor seed = be.axpby(s, phi, -s, be.upload(target));
            loss += sumOfSquares(be.download(seed).floats()) / (4 * w);
            seeds.merge(phi, seed, be::add);
        }
        Tensor g = be.download(t.gradient(in, seeds));
        lastFlops = t.flops();
        return new LossGradient(loss, g);
    }

    /**
     * Σ d² in double, summed per fixed block and then the blocks in order, so the value does not depend on the
     * thread count; four running sums per block keep the additions from waiting on each other.
     */
    static double sumOfSquares(float[] d) {
        int block = 1 << 16, blocks = (d.length + block - 1) / block;
        double[] part = new double[blocks];
        Parallel.forRange(blocks, 1, (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                int i = b * block, end = Math.min(d.length, i + block);
                double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                for (; i + 3 < end; i += 4) {
                    s0 += (double) d[i] * d[i];
                    s1 += (double) d[i + 1] * d[i + 1];
                    s2 += (double) d[i + 2] * d[i + 2];
                    s3 += (double) d[i + 3] * d[i + 3];
                }
                for (; i < end; i++) s0 += (double) d[i] * d[i];
                part[b] = (s0 + s1) + (s2 + s3);
            }
        });
        double ss = 0;
        for (double p : part) ss += p;
        return ss;
    }

    /** The convolution and linear FLOPs of the last features or lossGradient call (see {@link Tape#flops}). */
    long lastFlops() { return lastFlops; }

    /** Checks x and the node names, and that every tensor up to the deepest requested node was loaded. */
    private void prepare(Tensor x, Collection<String> wanted) {
        if (x.rank() != 4 || x.dim(1) != 3) {
            throw new IllegalArgumentException(arch + ": input " + x.shapeString() + " is not (N,3,H,W)");
        }
        if (wanted.isEmpty()) throw new IllegalArgumentException(arch + ": no nodes requested");
        int deepest = -1;
        for (String n : wanted) {
            int i = nodes.indexOf(n);
            if (i < 0) throw new IllegalArgumentException(arch + ": unknown node '" + n + "' (nodes: " + String.join(", ", nodes) + ")");
            deepest = Math.max(deepest, i);
        }
        List<String> problems = params.problemsUpTo(deepest);
        if (!problems.isEmpty()) {
            throw new FormatException(params.source() + ": " + arch + " up to " + nodes.get(deepest) + ": "
                    + String.join("; ", problems));
        }
    }

    @Override
    public void close() {
        file.close();
    }
}
