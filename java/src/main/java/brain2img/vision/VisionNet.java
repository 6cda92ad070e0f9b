package brain2img.vision;

import brain2img.tensor.Tensor;

import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * An image network loaded with its weights on a backend: the ImageNet CNNs of the metric suite and of Shen et
 * al.'s method, and CLIP's vision tower.
 *
 * <p>Inputs are float32 (N,3,H,W) already in the network's own input space (resized and normalised as its weights
 * expect; {@link #inputSpace()} says how). Node names are the ones users know: torchvision's
 * {@code create_feature_extractor} names ({@code features.4}, {@code avgpool}, {@code layer4}, {@code Mixed_7c},
 * {@code flatten}), Caffe's for {@code vgg19-caffe} ({@code conv1_1} … {@code fc8}), and {@code image_embeds},
 * {@code hidden_states.N} for CLIP. A convolution's node is its own output, before the ReLU that follows it.
 */
public interface VisionNet extends AutoCloseable {

    /** The architecture name as the CLI takes it, e.g. {@code alexnet}, {@code vgg19-caffe}, {@code clip-vit}. */
    String arch();

    /** Every node this network can return, in forward order. */
    List<String> nodes();

    /** How an RGB image in [0,1] becomes this network's input: size, channel order, scale, mean and std. */
    InputSpace inputSpace();

    /**
     * Runs the network on x (N,3,H,W) as far as the deepest requested node and returns each requested node's
     * output with torch's shape for it (e.g. (N,192,27,27) for AlexNet {@code features.4} at 224², (N,2048,1,1)
     * for ResNet {@code avgpool}). Tensors are host or backend tensors as the backend keeps them.
     */
    Map<String, Tensor> features(Tensor x, Collection<String> nodes);

    /**
     * The input gradient of L = Σ_l w_l ‖φ_l(x) − t_l‖² (sum of squares over all elements of the batch) for the
     * nodes in {@code targets}: t_l has φ_l(x)'s shape; weights default to 1 where absent.
     */
    LossGradient lossGradient(Tensor x, Map<String, Tensor> targets, Map<String, Double> weights);

    /** L and ∂L/∂x (same shape as x, host f32). */
    record LossGradient(double loss, Tensor gradient) {}

    /**
     * The input convention of a network's weights. {@code size} is the side the network was trained at (224
     * for most, 299 for Inception); {@code bgr255} marks Caffe's BGR 0–255 mean-subtracted input, where
     * {@code mean} holds the per-channel means in BGR order and {@code std} is all 1.
     */
    record InputSpace(int size, boolean bgr255, float[] mean, float[] std) {}

    @Override
    default void close() {}
}
