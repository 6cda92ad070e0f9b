package brain2img.vision.grad;

import brain2img.backend.Backend;
import brain2img.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reverse-mode input gradients for feed-forward image networks: each operation computes its output on the
 * backend and, when the tape is recording, remembers its backward step. {@link #gradient} then walks the
 * steps in reverse from seed gradients on any outputs to ∂L/∂input. Only activations are differentiated
 * (weights are constants captured by the steps), and only what reaches the seeds is computed.
 *
 * <p>A non-recording tape ({@link #forward}) runs the same network code with nothing kept, so one forward
 * function serves feature extraction and gradients. Tensors are tracked by identity: always go through the
 * tape's own {@link #reshape}/{@link #flatten} rather than {@link Tensor#reshape}, so the view is recorded.
 *
 * <pre>{@code
 * Tape t = Tape.recording(backend);
 * Tensor z = t.input(z0);                                   // the tensor to differentiate against
 * Tensor h = t.leakyRelu(t.linear(z, w1, b1), 0.3f);
 * Tensor img = t.convTranspose2d(t.reshape(h, 1, 256, 4, 4), w2, b2, 1, 2, 2, 1, 1, 8, 8);
 * Tensor dz = t.gradient(z, Map.of(img, dLdImg));          // ∂L/∂z, same shape as z
 * }</pre>
 */
public final class Tape {

    /** The gradients of one step's inputs (entries may be null where an input needs none) from its output's. */
    @FunctionalInterface
    public interface Backward {
        Tensor[] apply(Tensor gradOut);
    }

    private record Step(Tensor[] inputs, Tensor output, Backward backward) {}

    private final Backend be;
    private final boolean recording;
    private final List<Step> steps = new ArrayList<>();

    private Tape(Backend be, boolean recording) {
        this.be = be;
        this.recording = recording;
    }

    /** A tape that only computes (nothing is remembered). */
    public static Tape forward(Backend be) {
        return new Tape(be, false);
    }

    /** A tape that remembers every step for {@link #gradient}. */
    public static Tape recording(Backend be) {
        return new Tape(be, true);
    }

    public Backend backend() { return be; }

    public boolean isRecording() { return recording; }

    /** Marks x as a leaf to differentiate against (returns x itself; gradients are keyed by identity). */
    public Tensor input(Tensor x) {
        return x;
    }

    /**
     * Records a custom operation: {@code output} was computed from {@code inputs}, and {@code backward} maps
     * ∂L/∂output to ∂L/∂inputs in the same order. Returns output. For ops the tape does not have.
     */
    public Tensor record(Tensor output, Backward backward, Tensor... inputs) {
        if (recording) steps.add(new Step(inputs, output, backward));
        return output;
    }

    // ------------------------------------------------------------------ operations

    /** {@link Backend#conv2d(Tensor, Tensor, Tensor, int, int, int, int, int, int, int)}; w (O,C/groups,kh,kw). */
    public Tensor conv2d(Tensor x, Tensor w, Tensor bias, int groups, int sh, int sw, int pt, int pb, int pl, int pr) {
        Tensor y = be.conv2d(x, w, bias, groups, sh, sw, pt, pb, pl, pr);
        int h = x.dimInt(2), wd = x.dimInt(3);
        return record(y, g -> new Tensor[]{be.convTranspose2d(g, w, null, groups, sh, sw, pt, pl, h, wd)}, x);
    }

    /** {@link Backend#convTranspose2d}; w (Cin,Cout/groups,kh,kw), output (B,Cout,outH,outW). */
    public Tensor convTranspose2d(Tensor x, Tensor w, Tensor bias, int groups, int sh, int sw, int pt, int pl,
                                  int outH, int outW) {
        Tensor y = be.convTranspose2d(x, w, bias, groups, sh, sw, pt, pl, outH, outW);
        int h = x.dimInt(2), wd = x.dimInt(3), kh = w.dimInt(2), kw = w.dimInt(3);
        // the adjoint: a strided convolution whose bottom/right padding makes its output exactly H×W
        int pb = (h - 1) * sh + kh - outH - pt, pr = (wd - 1) * sw + kw - outW - pl;
        return record(y, g -> new Tensor[]{be.conv2d(g, w, null, groups, sh, sw, pt, pb, pl, pr)}, x);
    }

    /** x (...,in) · wᵀ + bias, w (out,in). */
    public Tensor linear(Tensor x, Tensor w, Tensor bias) {
        Tensor y = be.linear(x, w, bias);
        return record(y, g -> new Tensor[]{be.matmul(g, w)}, x);
    }

    public Tensor relu(Tensor x) {
        return activate(Backend.Act.RELU, 0f, x);
    }

    public Tensor leakyRelu(Tensor x, float slope) {
        return activate(Backend.Act.LEAKY_RELU, slope, x);
    }

    public Tensor sigmoid(Tensor x) {
        return activate(Backend.Act.SIGMOID, 0f, x);
    }

    public Tensor silu(Tensor x) {
        return activate(Backend.Act.SILU, 0f, x);
    }

    public Tensor activate(Backend.Act act, float slope, Tensor x) {
        Tensor y = be.activate(act, slope, x);
        return record(y, g -> new Tensor[]{be.activateBackward(act, slope, x, g)}, x);
    }

    public Tensor maxPool2d(Tensor x, int k, int s, int pad, boolean ceilMode) {
        Tensor y = be.maxPool2d(x, k, k, s, s, pad, pad, ceilMode);
        return record(y, g -> new Tensor[]{be.maxPool2dBackward(x, g, k, k, s, s, pad, pad, ceilMode)}, x);
    }

    public Tensor avgPool2d(Tensor x, int k, int s, int pad, boolean ceilMode, boolean countIncludePad) {
        Tensor y = be.avgPool2d(x, k, k, s, s, pad, pad, ceilMode, countIncludePad);
        int h = x.dimInt(2), w = x.dimInt(3);
        return record(y, g -> new Tensor[]{be.avgPool2dBackward(g, h, w, k, k, s, s, pad, pad, ceilMode, countIncludePad)}, x);
    }

    public Tensor adaptiveAvgPool2d(Tensor x, int outH, int outW) {
        Tensor y = be.adaptiveAvgPool2d(x, outH, outW);
        int h = x.dimInt(2), w = x.dimInt(3);
        return record(y, g -> new Tensor[]{be.adaptiveAvgPool2dBackward(g, h, w)}, x);
    }

    public Tensor resize(Tensor x, int outH, int outW, Backend.Interp mode, boolean antialias) {
        Tensor y = be.resize(x, outH, outW, mode, antialias);
        int h = x.dimInt(2), w = x.dimInt(3);
        return record(y, g -> new Tensor[]{be.resizeBackward(g, h, w, mode, antialias)}, x);
    }

    /** {@link Backend#crop}: rows [top, top+h) × columns [left, left+w), zero outside x. */
    public Tensor crop(Tensor x, int top, int left, int h, int w) {
        Tensor y = be.crop(x, top, left, h, w);
        int hh = x.dimInt(2), ww = x.dimInt(3);
        return record(y, g -> new Tensor[]{be.crop(g, -top, -left, hh, ww)}, x);
    }

    /** A view with another shape (torch's view/reshape). */
    public Tensor reshape(Tensor x, long... shape) {
        Tensor y = x.reshape(shape);
        long[] s = x.shape();
        return record(y, g -> new Tensor[]{g.reshape(s)}, x);
    }

    /** torch.flatten(x, 1): (B, ...) → (B, rest). */
    public Tensor flatten(Tensor x) {
        return reshape(x, x.dim(0), x.numel() / x.dim(0));
    }

    /** a + b, same shapes (residual connections). */
    public Tensor add(Tensor a, Tensor b) {
        if (!a.sameShape(b)) throw new IllegalArgumentException("add: " + a.shapeString() + " vs " + b.shapeString());
        return record(be.add(a, b), g -> new Tensor[]{g, g}, a, b);
    }

    /**
     * x (B,C,H,W) times s (B,C,1,1) per channel (squeeze-excitation); both get gradients:
     * ∂x = g·s, ∂s = Σ_spatial g·x.
     */
    public Tensor scaleChannels(Tensor x, Tensor s) {
        if (s.rank() != 4 || s.dim(0) != x.dim(0) || s.dim(1) != x.dim(1) || s.dim(2) != 1 || s.dim(3) != 1) {
            throw new IllegalArgumentException("scaleChannels: " + x.shapeString() + " by " + s.shapeString());
        }
        double area = (double) x.dim(2) * x.dim(3);
        return record(be.mul(x, s), g -> new Tensor[]{be.mul(g, s),
                be.scale(be.adaptiveAvgPool2d(be.mul(g, x), 1, 1), (float) area)}, x, s);
    }

    /** x·scale[c] + shift[c] per channel of (B,C,H,W) (Inception's transform_input, normalisation). */
    public Tensor affineChannels(Tensor x, float[] scale, float[] shift) {
        int c = x.dimInt(1);
        if (scale.length != c || shift.length != c) throw new IllegalArgumentException("affineChannels: " + c + " channels");
        Tensor sc = be.upload(Tensor.of(scale.clone(), c, 1, 1)), sh = be.upload(Tensor.of(shift.clone(), c, 1, 1));
        return record(be.add(be.mul(x, sc), sh), g -> new Tensor[]{be.mul(g, sc)}, x);
    }

    /** Concatenation along channels of (B,Ci,H,W) tensors (Inception's branches). */
    public Tensor concatChannels(List<Tensor> parts) {
        Tensor y = parts.get(0);
        for (int i = 1; i < parts.size(); i++) y = be.concatChannels(y, parts.get(i));
        long[] widths = parts.stream().mapToLong(p -> p.dim(1)).toArray();
        return record(y, g -> splitChannels(g, widths), parts.toArray(Tensor[]::new));
    }

    private Tensor[] splitChannels(Tensor g, long[] widths) {
        Tensor host = be.download(g);
        long b = host.dim(0), c = host.dim(1), spatial = host.numel() / (b * c);
        float[] gf = host.floats();
        Tensor[] out = new Tensor[widths.length];
        long c0 = 0;
        for (int i = 0; i < widths.length; i++) {
            float[] part = new float[Math.toIntExact(b * widths[i] * spatial)];
            for (long n = 0; n < b; n++) {
                System.arraycopy(gf, Math.toIntExact((n * c + c0) * spatial), part,
                        Math.toIntExact(n * widths[i] * spatial), Math.toIntExact(widths[i] * spatial));
            }
            long[] s = host.shape();
            s[1] = widths[i];
            out[i] = be.upload(Tensor.of(part, s));
            c0 += widths[i];
        }
        return out;
    }

    // ------------------------------------------------------------------ backward

    /**
     * ∂L/∂x for the seeds given (output tensor → ∂L/∂output, same shapes). Steps are walked in reverse; a
     * tensor's gradient is summed over all its uses. Returns zeros when x does not reach any seed. The tape
     * can be used once: its steps are released as they are walked.
     */
    public Tensor gradient(Tensor x, Map<Tensor, Tensor> seeds) {
        if (!recording) throw new IllegalStateException("gradient of a tape that was not recording");
        Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        seeds.forEach((t, g) -> {
            if (!Arrays.equals(t.shape(), g.shape())) {
                throw new IllegalArgumentException("seed gradient " + g.shapeString() + " for output " + t.shapeString());
            }
            accumulate(grads, t, g);
        });
        for (int i = steps.size() - 1; i >= 0; i--) {
            Step s = steps.remove(i);
            Tensor g = grads.remove(s.output);
            if (g == null) continue;
            Tensor[] in = s.backward.apply(g);
            for (int k = 0; k < s.inputs.length; k++) if (in[k] != null) accumulate(grads, s.inputs[k], in[k]);
        }
        Tensor gx = grads.get(x);
        return gx != null ? gx : be.allocate(x.shape());
    }

    private void accumulate(Map<Tensor, Tensor> grads, Tensor t, Tensor g) {
        grads.merge(t, g, be::add);
    }
}
