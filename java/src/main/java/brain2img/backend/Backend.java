package brain2img.backend;

import brain2img.tensor.Tensor;

/**
 * The few compute primitives every model is written against, with conveniences as default methods on top.
 *
 * <p>All tensors are f32 and row-major. Shapes in the javadoc use B batch, C channels, H/W spatial size,
 * L sequence length, D feature width. A backend owns where its tensors live: the CPU backend returns heap
 * tensors; a device backend returns device tensors and converts with {@link #upload}/{@link #download}.
 * Results are always new tensors unless a method says "in place".
 */
public interface Backend extends AutoCloseable {

    /** Short name, e.g. "cpu" or "cuda". */
    String name();

    /** One line for the CLI: which backend, on what hardware, with which options. */
    String describe();

    /** Makes a host tensor usable by this backend (identity on the CPU). */
    default Tensor upload(Tensor host) { return host.toF32(); }

    /** Brings a tensor back to the host as f32 (identity on the CPU). */
    default Tensor download(Tensor t) { return t.toF32(); }

    // ------------------------------------------------------------------ primitives

    /**
     * Batched, strided GEMM, row-major: for each b in [0,batch):
     * C_b = alpha · op(A_b) · op(B_b) + beta · C_b, where op(A) is m×k and op(B) is k×n.
     * A_b starts at element {@code aOff + b·strideA} with leading dimension lda (elements between rows of
     * A as stored); the same for B and C. When beta is 0, C is not read (NaNs in it do not propagate).
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
              Tensor a, long aOff, int lda, long strideA,
              Tensor b, long bOff, int ldb, long strideB,
              float beta, Tensor c, long cOff, int ldc, long strideC, int batch);

    /**
     * 2-D convolution (cross-correlation, as in PyTorch). x (B,C,H,W), w (O,C,kh,kw), bias (O) or null;
     * padding may differ per side (the VAE's downsampler pads right and bottom only).
     * Returns (B,O,(H+pt+pb-kh)/sh+1,(W+pl+pr-kw)/sw+1).
     */
    Tensor conv2d(Tensor x, Tensor w, Tensor bias, int strideH, int strideW,
                  int padTop, int padBottom, int padLeft, int padRight);

    /** Group norm over (C/G)·spatial values per group. x (B,C,...), gamma/beta (C); optionally SiLU after. */
    Tensor groupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps, boolean silu);

    /** Layer norm over the last dimension D. x (...,D), gamma/beta (D). */
    Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps);

    /** Softmax over the last dimension. */
    Tensor softmax(Tensor x);

    /**
     * Scaled dot-product attention with heads packed in the feature dimension (the layout linear projections
     * produce): q (B,Lq,H·Dk), k (B,Lk,H·Dk), v (B,Lk,H·Dv) → (B,Lq,H·Dv).
     * softmax(scale · q kᵀ + mask) v per head; mask is null or additive (Lq,Lk); causal hides j > i.
     */
    Tensor attention(Tensor q, Tensor k, Tensor v, int heads, float scale, Tensor mask, boolean causal);

    /** Element-wise unary function. */
    Tensor unary(Unary op, Tensor x);

    /**
     * Element-wise a op b with NumPy broadcasting of b to a's shape (b's shape right-aligned, its dimensions
     * equal to a's or 1). The result has a's shape.
     */
    Tensor binary(Binary op, Tensor a, Tensor b);

    /** alpha·x + beta·y, same shapes (DDIM updates, guidance mixing). */
    Tensor axpby(float alpha, Tensor x, float beta, Tensor y);

    /** GEGLU: x (...,2F) split into value (first F) and gate (last F) → value · gelu(gate), (...,F). */
    Tensor geglu(Tensor x);

    /** Nearest-neighbour ×2 upsampling. x (B,C,H,W) → (B,C,2H,2W). */
    Tensor upsampleNearest2x(Tensor x);

    /** Concatenation along dimension 1. a (B,Ca,...), b (B,Cb,...) → (B,Ca+Cb,...). */
    Tensor concatChannels(Tensor a, Tensor b);

    /** Swaps the last two dimensions: (B,M,N) → (B,N,M). Used to go between (B,C,H·W) and (B,H·W,C). */
    Tensor transposeLast2(Tensor x);

    /** Row gather: table (V,D), ids (N) of i32/i64 → (N,D). */
    Tensor embedding(Tensor table, Tensor ids);

    // ------------------------------------------------------------------ vision primitives
    //
    // The image networks' operations and the backward steps of their input gradients. The defaults here compute
    // on the host (download → CPU backend → upload): correct on every backend, fast only on the CPU, which
    // overrides them. A device backend replaces them with its own kernels as it gets them.

    /**
     * Grouped 2-D convolution: x (B,C,H,W), w (O,C/groups,kh,kw), bias (O) or null; output channel o reads
     * input channels of group o/(O/groups). groups = C = O is a depthwise convolution. Output size as
     * {@link #conv2d(Tensor, Tensor, Tensor, int, int, int, int, int, int)}.
     */
    default Tensor conv2d(Tensor x, Tensor w, Tensor bias, int groups, int strideH, int strideW,
                          int padTop, int padBottom, int padLeft, int padRight) {
        return upload(CpuBackend.HOST.conv2d(download(x), download(w), bias == null ? null : download(bias), groups,
                strideH, strideW, padTop, padBottom, padLeft, padRight));
    }

    /**
     * Transposed 2-D convolution (PyTorch's conv_transpose2d): x (B,Cin,H,W), w (Cin,Cout/groups,kh,kw),
     * bias (Cout) or null → (B,Cout,outH,outW). Input pixel (y,x) adds w·x to output pixel
     * (y·sh − padTop + i, x·sw − padLeft + j); taps outside [0,outH)×[0,outW) are dropped. PyTorch's size is
     * outH = (H−1)·sh − 2·padding + kh + output_padding. It is also the input gradient of {@code conv2d}: for
     * y = conv2d(x, w, groups, s, pads), ∂L/∂x = convTranspose2d(∂L/∂y, w, null, groups, s, padTop, padLeft, H, W).
     */
    default Tensor convTranspose2d(Tensor x, Tensor w, Tensor bias, int groups, int strideH, int strideW,
                                   int padTop, int padLeft, int outH, int outW) {
        return upload(CpuBackend.HOST.convTranspose2d(download(x), download(w), bias == null ? null : download(bias),
                groups, strideH, strideW, padTop, padLeft, outH, outW));
    }

    /**
     * Max pooling as PyTorch's max_pool2d (dilation 1): x (B,C,H,W) → (B,C,Ho,Wo) with
     * Ho = ⌊(H + 2·padH − kh)/sh⌋ + 1 (⌈⌉ with ceilMode, less one where the last window would start in the
     * bottom padding). Padding never wins the max; ties go to the first position in row-major window order.
     */
    default Tensor maxPool2d(Tensor x, int kh, int kw, int sh, int sw, int padH, int padW, boolean ceilMode) {
        return upload(CpuBackend.HOST.maxPool2d(download(x), kh, kw, sh, sw, padH, padW, ceilMode));
    }

    /** Input gradient of {@link #maxPool2d}: each output's gradient goes to its window's argmax in x. */
    default Tensor maxPool2dBackward(Tensor x, Tensor gradOut, int kh, int kw, int sh, int sw, int padH, int padW,
                                     boolean ceilMode) {
        return upload(CpuBackend.HOST.maxPool2dBackward(download(x), download(gradOut), kh, kw, sh, sw, padH, padW, ceilMode));
    }

    /**
     * Average pooling as PyTorch's avg_pool2d: output size as {@link #maxPool2d}; the divisor is the window
     * clipped to the padded input with {@code countIncludePad}, else the window clipped to the input.
     */
    default Tensor avgPool2d(Tensor x, int kh, int kw, int sh, int sw, int padH, int padW, boolean ceilMode,
                             boolean countIncludePad) {
        return upload(CpuBackend.HOST.avgPool2d(download(x), kh, kw, sh, sw, padH, padW, ceilMode, countIncludePad));
    }

    /** Input gradient of {@link #avgPool2d} for an input of height inH and width inW. */
    default Tensor avgPool2dBackward(Tensor gradOut, int inH, int inW, int kh, int kw, int sh, int sw, int padH,
                                     int padW, boolean ceilMode, boolean countIncludePad) {
        return upload(CpuBackend.HOST.avgPool2dBackward(download(gradOut), inH, inW, kh, kw, sh, sw, padH, padW,
                ceilMode, countIncludePad));
    }

    /** PyTorch's adaptive_avg_pool2d: output (i,j) averages rows ⌊i·H/oh⌋ … ⌈(i+1)·H/oh⌉−1, columns likewise. */
    default Tensor adaptiveAvgPool2d(Tensor x, int outH, int outW) {
        return upload(CpuBackend.HOST.adaptiveAvgPool2d(download(x), outH, outW));
    }

    /** Input gradient of {@link #adaptiveAvgPool2d} for an input of height inH and width inW. */
    default Tensor adaptiveAvgPool2dBackward(Tensor gradOut, int inH, int inW) {
        return upload(CpuBackend.HOST.adaptiveAvgPool2dBackward(download(gradOut), inH, inW));
    }

    /** Activations of the image networks; {@code slope} is LeakyReLU's negative slope and unused otherwise. */
    enum Act { RELU, LEAKY_RELU, SIGMOID, SILU }

    /** act(x) element-wise. */
    default Tensor activate(Act act, float slope, Tensor x) {
        return upload(CpuBackend.HOST.activate(act, slope, download(x)));
    }

    /** gradOut · act'(x) element-wise, x being the activation's input (ReLU's derivative at 0 is 0, as torch's). */
    default Tensor activateBackward(Act act, float slope, Tensor x, Tensor gradOut) {
        return upload(CpuBackend.HOST.activateBackward(act, slope, download(x), download(gradOut)));
    }

    /** Resampling filters of {@link #resize}. */
    enum Interp { BILINEAR, BICUBIC }

    /**
     * Resize exactly as torch's {@code interpolate(x, (outH,outW), mode, align_corners=False, antialias)}:
     * x (B,C,H,W) → (B,C,outH,outW). Without antialias: half-pixel source positions, bilinear clamped at the
     * edges, bicubic with A = −0.75 and replicated edges; with antialias: torch's separable filters (triangle,
     * or Keys cubic with a = −0.5) widened by the scale when downsampling, weights normalised per output.
     */
    default Tensor resize(Tensor x, int outH, int outW, Interp mode, boolean antialias) {
        return upload(CpuBackend.HOST.resize(download(x), outH, outW, mode, antialias));
    }

    /** Input gradient of {@link #resize} (the transposed filter) for an input of height inH and width inW. */
    default Tensor resizeBackward(Tensor gradOut, int inH, int inW, Interp mode, boolean antialias) {
        return upload(CpuBackend.HOST.resizeBackward(download(gradOut), inH, inW, mode, antialias));
    }

    /**
     * The window rows [top, top+h) × columns [left, left+w) of x (B,C,H,W) → (B,C,h,w); parts of the window
     * outside x are zero (so torchvision's CenterCrop of a smaller image pads). Its input gradient is
     * {@code crop(g, −top, −left, H, W)}.
     */
    default Tensor crop(Tensor x, int top, int left, int h, int w) {
        return upload(CpuBackend.HOST.crop(download(x), top, left, h, w));
    }

    // ------------------------------------------------------------------ conveniences

    enum Unary { SILU, GELU, QUICK_GELU, EXP, NEG }

    enum Binary { ADD, SUB, MUL }

    default Tensor add(Tensor a, Tensor b) { return binary(Binary.ADD, a, b); }

    default Tensor mul(Tensor a, Tensor b) { return binary(Binary.MUL, a, b); }

    default Tensor scale(Tensor x, float s) { return axpby(s, x, 0f, x); }

    default Tensor silu(Tensor x) { return unary(Unary.SILU, x); }

    /**
     * min(max(x, lo), hi) element-wise (the VAE's log-variance clamp, DDIM's clip_sample). This default goes
     * through a host copy, which is cheap for the small tensors it is used on; a device backend may override it.
     */
    default Tensor clamp(Tensor x, float lo, float hi) {
        float[] v = download(x).toFloatArray();
        for (int i = 0; i < v.length; i++) v[i] = Math.max(lo, Math.min(hi, v[i]));
        return upload(Tensor.of(v, x.shape()));
    }

    /** C = A · B for a (...,M,K) and b (K,N) → (...,M,N). */
    default Tensor matmul(Tensor a, Tensor b) {
        int k = a.dimInt(-1);
        int n = b.dimInt(1);
        if (b.rank() != 2 || b.dim(0) != k) {
            throw new IllegalArgumentException("matmul " + a.shapeString() + " · " + b.shapeString());
        }
        int m = Math.toIntExact(a.numel() / k);
        long[] s = a.shape();
        s[s.length - 1] = n;
        Tensor c = allocate(s);
        gemm(false, false, m, n, k, 1f, a, 0, k, 0, b, 0, n, 0, 0f, c, 0, n, 0, 1);
        return c;
    }

    /**
     * A PyTorch Linear: x (...,in) · wᵀ + bias with w (out,in) as stored in checkpoints, bias (out) or null.
     */
    default Tensor linear(Tensor x, Tensor w, Tensor bias) {
        int in = x.dimInt(-1);
        if (w.rank() != 2 || w.dim(1) != in) {
            throw new IllegalArgumentException("linear: input " + x.shapeString() + " does not match weight " + w.shapeString());
        }
        int out = w.dimInt(0);
        int m = Math.toIntExact(x.numel() / in);
        long[] s = x.shape();
        s[s.length - 1] = out;
        Tensor y = allocate(s);
        gemm(false, true, m, out, in, 1f, x, 0, in, 0, w, 0, in, 0, 0f, y, 0, out, 0, 1);
        return bias == null ? y : add(y, bias);
    }

    /** A zeroed f32 tensor where this backend keeps its tensors. */
    default Tensor allocate(long... shape) { return Tensor.zeros(shape); }

    @Override
    default void close() {}
}
