package brain2img.clip;

import brain2img.backend.Backend;
import brain2img.tensor.Tensor;

/**
 * One layer of CLIP's transformer, Hugging Face {@code CLIPEncoderLayer}, which the text tower
 * ({@code text_model.encoder.layers.i.*}) and the vision tower ({@code vision_model.encoder.layers.i.*}) share:
 * pre-LayerNorm multi-head self-attention and a two-layer MLP, each added back to the residual stream.
 * The towers differ only in the causal mask (text) and in where the weights come from, so both are arguments.
 * Components are named after the HF keys below the layer prefix; linear weights are (out,in) as stored.
 */
public record ClipEncoderLayer(Tensor layerNorm1Weight, Tensor layerNorm1Bias,
                               Tensor qProjWeight, Tensor qProjBias, Tensor kProjWeight, Tensor kProjBias,
                               Tensor vProjWeight, Tensor vProjBias, Tensor outProjWeight, Tensor outProjBias,
                               Tensor layerNorm2Weight, Tensor layerNorm2Bias,
                               Tensor fc1Weight, Tensor fc1Bias, Tensor fc2Weight, Tensor fc2Bias) {

    /** Returns the named weight, checked against {@code shape} and already on the backend. */
    @FunctionalInterface
    public interface Loader {
        Tensor load(String name, long... shape);
    }

    /** The layer under the key prefix {@code p} (e.g. {@code "text_model.encoder.layers.3."}): width D, MLP width F. */
    public static ClipEncoderLayer load(Loader w, String p, long d, long f) {
        return new ClipEncoderLayer(
                w.load(p + "layer_norm1.weight", d), w.load(p + "layer_norm1.bias", d),
                w.load(p + "self_attn.q_proj.weight", d, d), w.load(p + "self_attn.q_proj.bias", d),
                w.load(p + "self_attn.k_proj.weight", d, d), w.load(p + "self_attn.k_proj.bias", d),
                w.load(p + "self_attn.v_proj.weight", d, d), w.load(p + "self_attn.v_proj.bias", d),
                w.load(p + "self_attn.out_proj.weight", d, d), w.load(p + "self_attn.out_proj.bias", d),
                w.load(p + "layer_norm2.weight", d), w.load(p + "layer_norm2.bias", d),
                w.load(p + "mlp.fc1.weight", f, d), w.load(p + "mlp.fc1.bias", f),
                w.load(p + "mlp.fc2.weight", d, f), w.load(p + "mlp.fc2.bias", d));
    }

    /**
     * x (N,L,D) → (N,L,D). {@code causal}: position i attends to 0..i only (the text tower); the vision tower
     * attends to all positions. Attention scale 1/√(D/heads).
     */
    public Tensor forward(Backend be, Tensor x, int heads, float eps, Backend.Unary activation, boolean causal) {
        float scale = (float) (1.0 / Math.sqrt((double) qProjWeight.dim(0) / heads));
        Tensor h = be.layerNorm(x, layerNorm1Weight, layerNorm1Bias, eps);
        Tensor q = be.linear(h, qProjWeight, qProjBias), k = be.linear(h, kProjWeight, kProjBias),
                v = be.linear(h, vProjWeight, vProjBias);
        Tensor a = be.attention(q, k, v, heads, scale, null, causal); // (N,L,D)
        x = be.add(x, be.linear(a, outProjWeight, outProjBias));
        h = be.layerNorm(x, layerNorm2Weight, layerNorm2Bias, eps);
        h = be.unary(activation, be.linear(h, fc1Weight, fc1Bias)); // (N,L,F)
        return be.add(x, be.linear(h, fc2Weight, fc2Bias));
    }
}
