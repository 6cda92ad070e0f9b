package brain2img.dir;

import brain2img.tensor.Tensor;
import brain2img.vision.VisionNet;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Shen et al.'s loss for each image i of a set: L_i(x) = Σ_l w_{l,i} ‖φ_l(x) − f_{l,i}‖², with the lab's weights
 * w_{l,i} = (1/‖f_{l,i}‖²) / Σ_l' (1/‖f_{l',i}‖²), so every layer contributes in proportion to its target's size.
 *
 * <p>The weights differ per image and {@link VisionNet#lossGradient} takes one weight per node for a whole
 * batch and returns the batch's summed loss, so each image is one network call here: exact per-image weights
 * and losses (L-BFGS needs the latter). Batched network calls would need per-image weights and losses in that
 * interface.
 */
public final class FeatureLoss {
    private final VisionNet net;
    private final Map<String, Tensor> targets; // node → (N, …)
    private final List<String> nodes;
    private final double[][] weights;          // [image][node]

    /** targets: node → (N, shape of the node's output for one image). */
    public FeatureLoss(VisionNet net, Map<String, Tensor> targets) {
        if (targets.isEmpty()) throw new IllegalArgumentException("no target features given");
        this.net = net;
        this.targets = new LinkedHashMap<>(targets);
        this.nodes = List.copyOf(targets.keySet());
        int n = -1;
        for (Map.Entry<String, Tensor> e : targets.entrySet()) {
            if (n >= 0 && e.getValue().dim(0) != n) {
                throw new IllegalArgumentException("features of " + e.getKey() + " have " + e.getValue().dim(0) + " images, others " + n);
            }
            n = e.getValue().dimInt(0);
        }
        weights = new double[n][nodes.size()];
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int l = 0; l < nodes.size(); l++) {
                double ss = 0;
                for (float v : targets.get(nodes.get(l)).get(i).toFloatArray()) ss += (double) v * v;
                weights[i][l] = ss > 0 ? 1 / ss : 0;
                sum += weights[i][l];
            }
            if (sum == 0) throw new IllegalArgumentException("image " + i + ": every target feature is all zero");
            for (int l = 0; l < nodes.size(); l++) weights[i][l] /= sum;
        }
    }

    public int images() {
        return weights.length;
    }

    public List<String> nodes() {
        return nodes;
    }

    /** The normalised layer weights of image i, in node order. */
    public double[] weights(int i) {
        return weights[i].clone();
    }

    /** L_i and ∂L_i/∂x for image i at x (1,3,H,W) in the network's input space. */
    public VisionNet.LossGradient evaluate(int i, Tensor x) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        Map<String, Double> w = new LinkedHashMap<>();
        for (int l = 0; l < nodes.size(); l++) {
            Tensor all = targets.get(nodes.get(l));
            long[] shape = all.shape();
            shape[0] = 1;
            t.put(nodes.get(l), all.get(i).reshape(shape));
            w.put(nodes.get(l), weights[i][l]);
        }
        return net.lossGradient(x, t, w);
    }
}
