package brain2img.cuda;

import brain2img.backend.Backend;
import brain2img.backend.Conv2dShape;
import brain2img.backend.PoolShape;
import brain2img.backend.CpuBackend;
import brain2img.tensor.DType;
import brain2img.tensor.DeviceMemory;
import brain2img.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The CUDA backend: device tensors ({@link Tensor#onDevice}) in memory from a caching allocator on one stream,
 * cuBLAS for every GEMM (strided batched) and for convolutions (im2col + GEMM), the kernels of
 * {@code kernels/*.cu} for everything else.
 *
 * <p>Tensors: results are f32 device tensors. Arguments may be device tensors of this backend or host tensors;
 * host tensors are uploaded on use, and read-only host tensors (weights mapped from safetensors files) are
 * uploaded once and cached by their mapped address, dtype and shape for as long as the mapping is open, so
 * model code written against the CPU backend runs unchanged with its weights resident on the device (views
 * of a weight made per call, e.g. a reshape, hit the same cache entry). Weights converted to heap copies are
 * not recognised; call {@link #upload} once and keep the result for those.
 *
 * <p>Precision ({@code -Dbrain2img.cuda.precision}, default fp32): {@code fp32} (exact fp32 GEMMs), {@code tf32}
 * (tensor-core TF32 GEMMs), {@code fp16} / {@code bf16} (floating tensors of rank ≥ 2 given to {@link #upload} —
 * what model code uploads are its weight matrices and convolution kernels — and mapped weights used directly
 * are stored in that format; GEMMs take half inputs with fp32 accumulation). Host activations passed straight to
 * an op stay fp32, and norms, softmax, attention and element-wise ops always compute in fp32.
 */
public final class CudaBackend implements Backend, brain2img.ridge.DenseLinAlg.Provider {
    public static final String PRECISION_PROPERTY = "brain2img.cuda.precision";
    private static final long CUBLAS_WORKSPACE = 32L << 20;
    /** Upper bound on floats in one im2col buffer (256 MiB); bigger convolutions go in bands of output rows. */
    private static final long IM2COL_LIMIT = 64L << 20;
    private static final ThreadLocal<CudaBackend> CURRENT = new ThreadLocal<>();
    /** Builds the resize filter matrices on the host, with the CPU backend's own taps, so both agree by construction. */
    private static final CpuBackend FILTERS = new CpuBackend();

    /** GEMM precision; see the class comment. */
    public enum Precision {
        FP32, TF32, FP16, BF16;

        public static Precision parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown CUDA precision '" + s + "' (expected fp32, tf32, fp16 or bf16)");
            }
        }

        String lower() { return name().toLowerCase(Locale.ROOT); }
    }

    private final String tag;
    private final String deviceName;
    private final int ordinal, ccMajor, ccMinor, sms;
    private final long totalMem;
    private final Precision precision;
    private final MemorySegment ctx, stream, blas;
    private final long blasWorkspace;
    private final int blasVersion, driverVersion;
    private final CudaAllocator alloc;
    private final Kernels kernels;
    private final Map<WeightKey, Resident> weights = new HashMap<>();
    /** Resize filter matrices by (in, out, mode, antialias), uploaded once (so resizes can be graph-captured). */
    private final Map<String, Tensor> resizeFilters = new HashMap<>();
    private boolean closed;
    private volatile boolean capturing;

    /** A backend on device {@code -Dbrain2img.cuda.device} (default 0) with the precision of the system property. */
    public CudaBackend() {
        this(Precision.parse(System.getProperty(PRECISION_PROPERTY, "fp32")));
    }

    public CudaBackend(Precision precision) {
        this(CudaProbe.deviceOrdinal(), precision);
    }

    /** A backend on device {@code ordinal} (e.g. the GPU address a Spark task was given). */
    public CudaBackend(int ordinal, Precision precision) {
        String why = CudaProbe.unavailableReason();
        if (why != null) throw new IllegalStateException("CUDA backend unavailable: " + why);
        int count = CudaDriver.deviceCount();
        if (ordinal < 0 || ordinal >= count) throw new IllegalArgumentException("CUDA device " + ordinal + " requested, but " + count + " visible");
        this.precision = precision;
        this.ordinal = ordinal;
        int dev = CudaDriver.device(ordinal);
        this.tag = "cuda:" + ordinal;
        this.deviceName = CudaDriver.deviceName(dev);
        this.ccMajor = CudaDriver.attribute(CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
        this.ccMinor = CudaDriver.attribute(CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
        this.sms = CudaDriver.attribute(CudaDriver.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev);
        this.totalMem = CudaDriver.totalMem(dev);
        this.driverVersion = CudaDriver.driverVersion();
        this.ctx = CudaDriver.primaryCtxRetain(dev);
        CudaDriver.ctxSetCurrent(ctx);
        CURRENT.set(this);
        this.stream = CudaDriver.streamCreate(CudaDriver.CU_STREAM_NON_BLOCKING);
        this.alloc = new CudaAllocator(tag, CudaDriver::memAlloc, CudaDriver::memFree);
        this.blas = CuBlas.create();
        CuBlas.setStream(blas, stream);
        this.blasWorkspace = CudaDriver.memAlloc(CUBLAS_WORKSPACE);
        CuBlas.setWorkspace(blas, blasWorkspace, CUBLAS_WORKSPACE);
        this.blasVersion = CuBlas.version(blas);
        this.kernels = new Kernels(ccMajor);
    }

    @Override
    public String name() { return "cuda"; }

    @Override
    public String describe() {
        return String.format(Locale.ROOT, "%s: %s (compute %d.%d, %d SMs, %.1f GiB; PTX %s), driver CUDA %d.%d, cuBLAS %d.%d.%d, precision %s",
                tag, deviceName, ccMajor, ccMinor, sms, totalMem / (double) (1L << 30), kernels.arch(),
                driverVersion / 1000, driverVersion % 1000 / 10,
                blasVersion / 10000, blasVersion / 100 % 100, blasVersion % 100, precision.lower());
    }

    /** The ridge engine's GEMMs and eigendecompositions on this GPU ({@link CudaDenseLinAlg}). */
    @Override
    public brain2img.ridge.DenseLinAlg denseLinAlg() {
        return new CudaDenseLinAlg(this, brain2img.ridge.CpuDenseLinAlg.best());
    }

    /** Bytes held by live device tensors, cached for reuse, and the peak held since creation. */
    public String memoryStats() {
        return String.format(Locale.ROOT, "%.1f MiB in use, %.1f MiB cached, peak %.1f MiB",
                alloc.inUse() / 1048576.0, alloc.cached() / 1048576.0, alloc.peak() / 1048576.0);
    }

    /** Waits for all queued work; a kernel fault shows up here (or at the next download) as a CudaException. */
    public void synchronize() {
        ensureCurrent();
        CudaDriver.streamSynchronize(stream);
    }

    MemorySegment stream() { return stream; }

    // ------------------------------------------------------------------ tensors

    /** The driver's current context is per thread: make ours current on whichever thread calls. */
    private void ensureCurrent() {
        if (closed) throw new IllegalStateException("the CUDA backend on " + tag + " is closed");
        if (CURRENT.get() != this) {
            CudaDriver.ctxSetCurrent(ctx);
            CURRENT.set(this);
        }
    }

    /** Host bytes to a new device tensor of the same dtype (no conversion, whatever the precision mode). */
    Tensor toDevice(Tensor host) {
        ensureCurrent();
        return copyToDevice(host);
    }

    /** A device tensor's bytes into the host tensor {@code into} (same dtype and size), waiting for them. */
    void toHost(Tensor dev, Tensor into) {
        ensureCurrent();
        requireNotCapturing("download of " + dev.shapeString());
        long bytes = dev.numel() * dev.dtype().bytes;
        if (bytes == 0) return;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment staging = a.allocate(bytes, 64);
            CudaDriver.memcpyDtoHAsync(staging, ptr(mine(dev)), bytes, stream);
            CudaDriver.streamSynchronize(stream);
            into.segment().asSlice(0, bytes).copyFrom(staging);
        }
    }

    /**
     * In-place eigendecomposition (cuSOLVER syevd) of the symmetric n×n device matrix a, f32 or f64: w (n, same dtype)
     * receives the eigenvalues ascending, a the eigenvectors, one per row (cuSOLVER's column-major output read
     * row-major). A nonzero devInfo is a CudaException naming it.
     */
    void syevd(Tensor a, Tensor w, int n) {
        ensureCurrent();
        boolean dbl = a.dtype() == DType.F64;
        MemorySegment h = CuSolver.create();
        try (Tensor info = empty(DType.I32, 1)) {
            CuSolver.setStream(h, stream);
            int lwork = CuSolver.syevdBufferSize(h, dbl, CuSolver.CUSOLVER_EIG_MODE_VECTOR, CuSolver.CUBLAS_FILL_MODE_LOWER, n, ptr(a), n, ptr(w));
            try (Tensor work = empty(a.dtype(), Math.max(1, lwork))) {
                CuSolver.syevd(h, dbl, CuSolver.CUSOLVER_EIG_MODE_VECTOR, CuSolver.CUBLAS_FILL_MODE_LOWER, n,
                        ptr(a), n, ptr(w), ptr(work), lwork, ptr(info));
                Tensor status = Tensor.allocateHeap(DType.I32, 1);
                toHost(info, status);
                int st = status.segment().get(JAVA_INT, 0);
                if (st != 0) {
                    throw new CudaException("cusolverDn" + (dbl ? "D" : "S") + "syevd(" + n + "×" + n + "): devInfo = " + st
                            + (st > 0 ? " (off-diagonal elements did not converge)" : " (argument " + -st + " invalid)"), st);
                }
            }
        } finally {
            CuSolver.destroy(h);
        }
    }

    /** Row-major f32 C = α·op(A)·op(B) + β·C on device tensors with fp32 compute, whatever the precision mode. */
    void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, int lda, Tensor b, int ldb,
               float beta, Tensor c, int ldc) {
        ensureCurrent();
        CuBlas.gemmStridedBatched(blas, transB ? CuBlas.CUBLAS_OP_T : CuBlas.CUBLAS_OP_N, transA ? CuBlas.CUBLAS_OP_T : CuBlas.CUBLAS_OP_N,
                n, m, k, alpha, ptr(mine(b)), CuBlas.CUDA_R_32F, ldb, 0, ptr(mine(a)), CuBlas.CUDA_R_32F, lda, 0,
                beta, ptr(mine(c)), ldc, 0, 1, CuBlas.CUBLAS_COMPUTE_32F);
    }

    /** A new device tensor of this backend, contents undefined. */
    Tensor empty(DType dtype, long... shape) {
        long bytes = Tensor.numel(shape) * dtype.bytes;
        return Tensor.onDevice(alloc.allocate(bytes), true, dtype, shape);
    }

    static long ptr(Tensor t) {
        return t.deviceMemory().address();
    }

    @Override
    public Tensor allocate(long... shape) {
        ensureCurrent();
        Tensor t = empty(DType.F32, shape);
        CudaDriver.memsetD8Async(ptr(t), (byte) 0, t.numel() * 4, stream);
        return t;
    }

    @Override
    public Tensor upload(Tensor host) {
        return upload(host, true);
    }

    /** {@code explicit}: called as {@link #upload} (half storage in fp16/bf16 mode), else an op's host argument. */
    private Tensor upload(Tensor host, boolean explicit) {
        ensureCurrent();
        if (host.isOnDevice()) return mine(host);
        MemorySegment seg = host.segment();
        boolean weight = seg.isReadOnly() && seg.isNative();
        WeightKey key = weight ? new WeightKey(seg.address(), host.dtype(), Arrays.toString(host.shape())) : null;
        if (weight) {
            synchronized (weights) {
                Resident r = weights.get(key);
                if (r != null && r.host.scope().isAlive()) return view(r.device);
                if (r != null) weights.remove(key).device.close(); // the file was closed: its address may be reused
            }
        }
        Tensor src = host;
        if (src.dtype() == DType.F64 || src.dtype() == DType.U8) src = src.toF32();
        Tensor d = copyToDevice(src);
        if (d.dtype().isFloating()) {
            boolean half = (explicit || weight) && host.rank() >= 2 && (precision == Precision.FP16 || precision == Precision.BF16);
            DType target = half ? (precision == Precision.FP16 ? DType.F16 : DType.BF16) : DType.F32;
            if (d.dtype() != target) d = convert(d, target);
        }
        if (weight) {
            synchronized (weights) {
                weights.put(key, new Resident(seg, d));
            }
            return view(d);
        }
        return d;
    }

    /** A non-owning view: closing a cached weight handed out to model code must not free it under the cache. */
    private static Tensor view(Tensor t) {
        return t.reshape(t.shape());
    }

    /** A mapped weight as seen from the host: where it starts, its dtype and shape. */
    private record WeightKey(long address, DType dtype, String shape) {}

    /** A cached upload and the host mapping it came from (whose scope tells whether the cache is still valid). */
    private record Resident(MemorySegment host, Tensor device) {}

    /** Raw bytes to a new device tensor of the same dtype; waits until the host memory may be reused. */
    private Tensor copyToDevice(Tensor host) {
        requireNotCapturing("upload of host tensor " + host.shapeString());
        long bytes = host.numel() * host.dtype().bytes;
        Tensor d = empty(host.dtype(), host.shape());
        if (bytes == 0) return d;
        MemorySegment seg = host.segment().asSlice(0, bytes);
        if (seg.isNative()) {
            CudaDriver.memcpyHtoDAsync(ptr(d), seg, bytes, stream);
            CudaDriver.streamSynchronize(stream);
        } else {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment staging = a.allocate(bytes, 64);
                staging.copyFrom(seg);
                CudaDriver.memcpyHtoDAsync(ptr(d), staging, bytes, stream);
                CudaDriver.streamSynchronize(stream);
            }
        }
        return d;
    }

    @Override
    public Tensor download(Tensor t) {
        if (!t.isOnDevice()) return t.toF32();
        ensureCurrent();
        Tensor f = f32(mine(t)), out = Tensor.allocateHeap(DType.F32, t.shape());
        toHost(f, out);
        return out;
    }

    /** Device tensors must be this backend's. */
    private Tensor mine(Tensor t) {
        DeviceMemory m = t.deviceMemory();
        if (!m.device().equals(tag)) {
            throw new IllegalArgumentException("tensor " + t.shapeString() + " is on " + m.device() + ", this backend is " + tag);
        }
        return t;
    }

    /** An argument as a device tensor: this backend's as is, a host tensor uploaded (weights once). */
    private Tensor dev(Tensor t) {
        return t.isOnDevice() ? mine(t) : upload(t, false);
    }

    /** An argument as an f32 device tensor (half-precision weights converted to a temporary). */
    private Tensor f32(Tensor t) {
        Tensor d = dev(t);
        if (d.dtype() == DType.F32) return d;
        if (d.dtype() == DType.F16 || d.dtype() == DType.BF16) return convert(d, DType.F32);
        throw new IllegalArgumentException("expected a floating-point tensor, got " + t.shapeString());
    }

    /** Converts between f32, f16 and bf16 on the device (f16 ↔ bf16 through f32). */
    private Tensor convert(Tensor d, DType target) {
        if (d.dtype() == target) return d;
        long n = d.numel();
        Kernel k;
        if (target == DType.F32) {
            k = d.dtype() == DType.F16 ? Kernel.F16_TO_F32 : Kernel.BF16_TO_F32;
        } else if (d.dtype() == DType.F32) {
            k = target == DType.F16 ? Kernel.F32_TO_F16 : Kernel.F32_TO_BF16;
        } else {
            return convert(convert(d, DType.F32), target);
        }
        Tensor out = empty(target, d.shape());
        try (KernelArgs a = new KernelArgs()) {
            a.ptr(ptr(d)).ptr(ptr(out)).i64(n);
            launch1d(k, n, a);
        }
        return out;
    }

    // ------------------------------------------------------------------ launches

    private void launch(Kernel k, int gx, int gy, int gz, int bx, int by, KernelArgs args) {
        CudaDriver.launchKernel(kernels.function(k), gx, gy, gz, bx, by, 1, 0, stream, args.array(), k.entry);
    }

    /** A grid-stride kernel over n elements: 256 threads, at most 2^20 blocks (the loop covers the rest). */
    private void launch1d(Kernel k, long n, KernelArgs args) {
        if (n == 0) return;
        int blocks = (int) Math.max(1, Math.min((n + 255) / 256, 1L << 20));
        launch(k, blocks, 1, 1, 256, 1, args);
    }

    /** Threads for a one-block-per-row reduction over rows of length n: a multiple of 32 in [32, max]. */
    private static int rowThreads(long n, int max) {
        return (int) Math.max(32, Math.min(max, (n + 31) / 32 * 32));
    }

    // ------------------------------------------------------------------ gemm

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     Tensor a, long aOff, int lda, long strideA,
                     Tensor b, long bOff, int ldb, long strideB,
                     float beta, Tensor c, long cOff, int ldc, long strideC, int batch) {
        ensureCurrent();
        if (!c.isOnDevice() || c.dtype() != DType.F32) {
            throw new IllegalArgumentException("gemm output must be an f32 tensor of " + tag + ", got " + c);
        }
        mine(c);
        if (m == 0 || n == 0 || batch == 0) return;
        Tensor da = dev(a), db = dev(b);
        int compute;
        if (da.dtype() == DType.F32 && db.dtype() == DType.F32) {
            compute = switch (precision) {
                case FP32 -> CuBlas.CUBLAS_COMPUTE_32F;
                case TF32 -> CuBlas.CUBLAS_COMPUTE_32F_FAST_TF32;
                case FP16 -> CuBlas.CUBLAS_COMPUTE_32F_FAST_16F;
                case BF16 -> CuBlas.CUBLAS_COMPUTE_32F_FAST_16BF;
            };
        } else {
            // Half inputs need both operands in the same half type; fp32 accumulation and output.
            DType half = da.dtype() != DType.F32 ? da.dtype() : db.dtype();
            if (!half.isFloating() || half == DType.F64) throw new IllegalArgumentException("gemm operands " + a + ", " + b);
            da = convert(da, half);
            db = convert(db, half);
            compute = CuBlas.CUBLAS_COMPUTE_32F;
        }
        int type = cublasType(da.dtype());
        long es = da.dtype().bytes;
        // Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: swap the operands, keep lds and strides.
        CuBlas.gemmStridedBatched(blas, transB ? CuBlas.CUBLAS_OP_T : CuBlas.CUBLAS_OP_N,
                transA ? CuBlas.CUBLAS_OP_T : CuBlas.CUBLAS_OP_N, n, m, k, alpha,
                ptr(db) + bOff * es, type, ldb, strideB,
                ptr(da) + aOff * es, type, lda, strideA,
                beta, ptr(c) + cOff * 4, ldc, strideC, batch, compute);
    }

    private static int cublasType(DType t) {
        return switch (t) {
            case F32 -> CuBlas.CUDA_R_32F;
            case F16 -> CuBlas.CUDA_R_16F;
            case BF16 -> CuBlas.CUDA_R_16BF;
            default -> throw new IllegalArgumentException("no cuBLAS type for " + t);
        };
    }

    // ------------------------------------------------------------------ conv2d

    @Override
    public Tensor conv2d(Tensor x, Tensor w, Tensor bias, int sh, int sw, int pt, int pb, int pl, int pr) {
        ensureCurrent();
        Conv2dShape s = Conv2dShape.of(x, w, sh, sw, pt, pb, pl, pr);
        int bsz = s.batch(), ch = s.channels(), hh = s.height(), ww = s.width();
        int oc = s.outChannels(), kh = s.kh(), kw = s.kw(), ho = s.outHeight(), wo = s.outWidth();
        Tensor dx = f32(x), dw = dev(w);
        Tensor out = empty(DType.F32, bsz, oc, ho, wo);
        int ckk = ch * kh * kw;
        long imgIn = (long) ch * hh * ww, imgOut = (long) oc * ho * wo;
        if (s.pointwise()) {
            // out_b (oc × HW) = W (oc × C) · x_b (C × HW) for all b in one strided-batched call
            gemm(false, false, oc, ho * wo, ch, 1f, dw, 0, ch, 0, dx, 0, hh * ww, imgIn, 0f, out, 0, ho * wo, imgOut, bsz);
        } else {
            int bandRows = (int) Math.max(1, Math.min(ho, IM2COL_LIMIT / Math.max(1L, (long) ckk * wo)));
            Tensor col = empty(DType.F32, (long) ckk * bandRows * wo);
            try {
                for (int b = 0; b < bsz; b++) {
                    for (int r0 = 0; r0 < ho; r0 += bandRows) {
                        int rows = Math.min(bandRows, ho - r0);
                        int cols = rows * wo;
                        try (KernelArgs a = new KernelArgs()) {
                            a.ptr(ptr(dx) + b * imgIn * 4).ptr(ptr(col)).i32(ch).i32(hh).i32(ww).i32(kh).i32(kw)
                                    .i32(sh).i32(sw).i32(pt).i32(pl).i32(wo).i32(r0).i32(rows);
                            launch1d(Kernel.IM2COL, (long) ckk * cols, a);
                        }
                        // out[b, :, r0·wo .. +cols] = W (oc × ckk) · col (ckk × cols), ldc = ho·wo
                        gemm(false, false, oc, cols, ckk, 1f, dw, 0, ckk, 0, col, 0, cols, 0,
                                0f, out, b * imgOut + (long) r0 * wo, ho * wo, 0, 1);
                    }
                }
            } finally {
                col.close(); // back to the cache; later work on the stream is ordered after the GEMMs
            }
        }
        if (bias != null) binaryInto(Binary.ADD, out, f32(bias).reshape(oc, 1, 1), out);
        return out;
    }

    // ------------------------------------------------------------------ vision: grouped and transposed convolution

    /**
     * Depthwise (one input channel per group): the direct kernel of depthwise.cu. Other groupings: im2col of
     * all channels (group g's rows are the contiguous block g·(C/groups)·kh·kw …), then one strided-batched
     * GEMM over the groups, out_g (O/groups × pixels) = W_g · col_g.
     */
    @Override
    public Tensor conv2d(Tensor x, Tensor w, Tensor bias, int groups, int sh, int sw, int pt, int pb, int pl, int pr) {
        if (groups == 1) return conv2d(x, w, bias, sh, sw, pt, pb, pl, pr);
        ensureCurrent();
        Conv2dShape s = Conv2dShape.of(x, w, groups, sh, sw, pt, pb, pl, pr);
        int bsz = s.batch(), ch = s.channels(), hh = s.height(), ww = s.width();
        int oc = s.outChannels(), kh = s.kh(), kw = s.kw(), ho = s.outHeight(), wo = s.outWidth();
        int cg = ch / groups, og = oc / groups;
        Tensor dx = f32(x);
        Tensor out = empty(DType.F32, bsz, oc, ho, wo);
        if (cg == 1) {
            Tensor dw = f32(w);
            try (KernelArgs a = new KernelArgs()) {
                a.ptr(ptr(dx)).ptr(ptr(dw)).ptr(ptr(out)).i32(bsz).i32(ch).i32(og).i32(hh).i32(ww).i32(kh).i32(kw)
                        .i32(sh).i32(sw).i32(pt).i32(pl).i32(ho).i32(wo);
                launch1d(Kernel.DEPTHWISE, out.numel(), a);
            }
        } else {
            Tensor dw = dev(w);
            int ckkG = cg * kh * kw, ckk = ch * kh * kw;
            long imgIn = (long) ch * hh * ww, imgOut = (long) oc * ho * wo;
            int bandRows = (int) Math.max(1, Math.min(ho, IM2COL_LIMIT / Math.max(1L, (long) ckk * wo)));
            Tensor col = empty(DType.F32, (long) ckk * bandRows * wo);
            try {
                for (int b = 0; b < bsz; b++) {
                    for (int r0 = 0; r0 < ho; r0 += bandRows) {
                        int rows = Math.min(bandRows, ho - r0);
                        int cols = rows * wo;
                        try (KernelArgs a = new KernelArgs()) {
                            a.ptr(ptr(dx) + b * imgIn * 4).ptr(ptr(col)).i32(ch).i32(hh).i32(ww).i32(kh).i32(kw)
                                    .i32(sh).i32(sw).i32(pt).i32(pl).i32(wo).i32(r0).i32(rows);
                            launch1d(Kernel.IM2COL, (long) ckk * cols, a);
                        }
                        // per group g: out[b, g·og.., r0·wo .. +cols] = W_g (og × ckkG) · col_g (ckkG × cols), ldc = ho·wo
                        gemm(false, false, og, cols, ckkG, 1f, dw, 0, ckkG, (long) og * ckkG, col, 0, cols, (long) ckkG * cols,
                                0f, out, b * imgOut + (long) r0 * wo, ho * wo, (long) og * ho * wo, groups);
                    }
                }
            } finally {
                col.close();
            }
        }
        if (bias != null) binaryInto(Binary.ADD, out, f32(bias).reshape(oc, 1, 1), out);
        return out;
    }

    /**
     * Per image and band of input rows: columns_g (Cout/g·kh·kw × pixels) = W_gᵀ · x_g for all groups in one
     * strided-batched GEMM, then col2im.cu adds them into the (zeroed) output. With x = ∂L/∂y of a convolution
     * this is the convolution's input gradient.
     */
    @Override
    public Tensor convTranspose2d(Tensor x, Tensor w, Tensor bias, int groups, int sh, int sw, int pt, int pl,
                                  int outH, int outW) {
        ensureCurrent();
        Conv2dShape.checkTransposed(x, w, groups, outH, outW);
        int bsz = x.dimInt(0), cin = x.dimInt(1), hh = x.dimInt(2), ww = x.dimInt(3);
        int og = w.dimInt(1), kh = w.dimInt(2), kw = w.dimInt(3);
        int cg = cin / groups, oc = og * groups, okk = og * kh * kw;
        Tensor dx = f32(x), dw = dev(w);
        Tensor out = allocate(bsz, oc, outH, outW);
        long imgIn = (long) cin * hh * ww, imgOut = (long) oc * outH * outW;
        if (hh > 0 && ww > 0 && okk > 0) {
            int bandRows = (int) Math.max(1, Math.min(hh, IM2COL_LIMIT / Math.max(1L, (long) groups * okk * ww)));
            Tensor cols = empty(DType.F32, (long) groups * okk * bandRows * ww);
            try {
                for (int b = 0; b < bsz; b++) {
                    for (int r0 = 0; r0 < hh; r0 += bandRows) {
                        int rows = Math.min(bandRows, hh - r0), n = rows * ww;
                        // cols_g (okk × n) = W_gᵀ (okk × cg) · x[b, g·cg.., r0·ww .. +n] (cg × n, ld H·W)
                        gemm(true, false, okk, n, cg, 1f, dw, 0, okk, (long) cg * okk,
                                dx, b * imgIn + (long) r0 * ww, hh * ww, (long) cg * hh * ww,
                                0f, cols, 0, n, (long) okk * n, groups);
                        try (KernelArgs a = new KernelArgs()) {
                            a.ptr(ptr(cols)).ptr(ptr(out) + b * imgOut * 4).i32(oc).i32(outH).i32(outW).i32(kh).i32(kw)
                                    .i32(sh).i32(sw).i32(pt).i32(pl).i32(ww).i32(r0).i32(rows);
                            launch1d(Kernel.COL2IM, imgOut, a);
                        }
                    }
                }
            } finally {
                cols.close();
            }
        }
        if (bias != null) binaryInto(Binary.ADD, out, f32(bias).reshape(oc, 1, 1), out);
        return out;
    }

    // ------------------------------------------------------------------ vision: pooling

    private static void checkGrad(Tensor g, long b, long c, int h, int w, String what) {
        if (g.rank() != 4 || g.dim(0) != b || g.dim(1) != c || g.dim(2) != h || g.dim(3) != w) {
            throw new IllegalArgumentException(what + ": gradient " + g.shapeString() + " is not (" + b + "," + c + "," + h + "," + w + ")");
        }
    }

    private static void checkRank4(Tensor x, String what) {
        if (x.rank() != 4) throw new IllegalArgumentException(what + ": " + x.shapeString() + " is not (B,C,H,W)");
    }

    /**
     * One pooling kernel over planes = B·C: pointers, then (planes, H, W, Ho, Wo), then the window ints; out is
     * (B, C, outH, outW) (the input's size for the backward kernels).
     */
    private Tensor pool(Kernel k, Tensor[] in, long bsz, long ch, int hh, int ww, int ho, int wo, int outH, int outW, int... window) {
        Tensor out = empty(DType.F32, bsz, ch, outH, outW);
        try (KernelArgs a = new KernelArgs()) {
            for (Tensor t : in) a.ptr(ptr(f32(t)));
            a.ptr(ptr(out)).i64(bsz * ch).i32(hh).i32(ww).i32(ho).i32(wo);
            for (int v : window) a.i32(v);
            launch1d(k, out.numel(), a);
        }
        return out;
    }

    @Override
    public Tensor maxPool2d(Tensor x, int kh, int kw, int sh, int sw, int ph, int pw, boolean ceilMode) {
        ensureCurrent();
        PoolShape.check(x, kh, kw, sh, sw, ph, pw);
        int hh = x.dimInt(2), ww = x.dimInt(3);
        int ho = PoolShape.outSize(hh, kh, sh, ph, ceilMode), wo = PoolShape.outSize(ww, kw, sw, pw, ceilMode);
        return pool(Kernel.MAXPOOL, new Tensor[]{x}, x.dim(0), x.dim(1), hh, ww, ho, wo, ho, wo, kh, kw, sh, sw, ph, pw);
    }

    @Override
    public Tensor maxPool2dBackward(Tensor x, Tensor gradOut, int kh, int kw, int sh, int sw, int ph, int pw, boolean ceilMode) {
        ensureCurrent();
        PoolShape.check(x, kh, kw, sh, sw, ph, pw);
        int hh = x.dimInt(2), ww = x.dimInt(3);
        int ho = PoolShape.outSize(hh, kh, sh, ph, ceilMode), wo = PoolShape.outSize(ww, kw, sw, pw, ceilMode);
        checkGrad(gradOut, x.dim(0), x.dim(1), ho, wo, "maxPool2dBackward");
        return pool(Kernel.MAXPOOL_BACKWARD, new Tensor[]{x, gradOut}, x.dim(0), x.dim(1), hh, ww, ho, wo, hh, ww,
                kh, kw, sh, sw, ph, pw);
    }

    @Override
    public Tensor avgPool2d(Tensor x, int kh, int kw, int sh, int sw, int ph, int pw, boolean ceilMode, boolean countIncludePad) {
        ensureCurrent();
        PoolShape.check(x, kh, kw, sh, sw, ph, pw);
        int hh = x.dimInt(2), ww = x.dimInt(3);
        int ho = PoolShape.outSize(hh, kh, sh, ph, ceilMode), wo = PoolShape.outSize(ww, kw, sw, pw, ceilMode);
        return pool(Kernel.AVGPOOL, new Tensor[]{x}, x.dim(0), x.dim(1), hh, ww, ho, wo, ho, wo,
                kh, kw, sh, sw, ph, pw, countIncludePad ? 1 : 0);
    }

    @Override
    public Tensor avgPool2dBackward(Tensor gradOut, int inH, int inW, int kh, int kw, int sh, int sw, int ph, int pw,
                                    boolean ceilMode, boolean countIncludePad) {
        ensureCurrent();
        PoolShape.check(gradOut, kh, kw, sh, sw, ph, pw);
        int ho = PoolShape.outSize(inH, kh, sh, ph, ceilMode), wo = PoolShape.outSize(inW, kw, sw, pw, ceilMode);
        checkGrad(gradOut, gradOut.dim(0), gradOut.dim(1), ho, wo, "avgPool2dBackward for input " + inH + "x" + inW);
        return pool(Kernel.AVGPOOL_BACKWARD, new Tensor[]{gradOut}, gradOut.dim(0), gradOut.dim(1), inH, inW, ho, wo, inH, inW,
                kh, kw, sh, sw, ph, pw, countIncludePad ? 1 : 0);
    }

    @Override
    public Tensor adaptiveAvgPool2d(Tensor x, int outH, int outW) {
        ensureCurrent();
        checkRank4(x, "adaptiveAvgPool2d");
        if (outH < 1 || outW < 1) throw new IllegalArgumentException("adaptive pooling to " + outH + "x" + outW);
        int hh = x.dimInt(2), ww = x.dimInt(3);
        return pool(Kernel.ADAPTIVE_AVGPOOL, new Tensor[]{x}, x.dim(0), x.dim(1), hh, ww, outH, outW, outH, outW);
    }

    @Override
    public Tensor adaptiveAvgPool2dBackward(Tensor gradOut, int inH, int inW) {
        ensureCurrent();
        checkRank4(gradOut, "adaptiveAvgPool2dBackward");
        if (inH < 1 || inW < 1) throw new IllegalArgumentException("adaptiveAvgPool2dBackward: input " + inH + "x" + inW);
        int ho = gradOut.dimInt(2), wo = gradOut.dimInt(3);
        return pool(Kernel.ADAPTIVE_AVGPOOL_BACKWARD, new Tensor[]{gradOut}, gradOut.dim(0), gradOut.dim(1), inH, inW,
                ho, wo, inH, inW);
    }

    // ------------------------------------------------------------------ vision: activations, resampling, crop

    @Override
    public Tensor activate(Act act, float slope, Tensor x) {
        ensureCurrent();
        Tensor dx = f32(x);
        Tensor out = empty(DType.F32, x.shape());
        try (KernelArgs a = new KernelArgs()) {
            a.ptr(ptr(dx)).ptr(ptr(out)).i64(x.numel()).i32(act.ordinal()).f32(slope);
            launch1d(Kernel.ACTIVATE, x.numel(), a);
        }
        return out;
    }

    @Override
    public Tensor activateBackward(Act act, float slope, Tensor x, Tensor gradOut) {
        ensureCurrent();
        if (!x.sameShape(gradOut)) throw new IllegalArgumentException("activateBackward: " + x.shapeString() + " vs " + gradOut.shapeString());
        Tensor dx = f32(x), dg = f32(gradOut);
        Tensor out = empty(DType.F32, x.shape());
        try (KernelArgs a = new KernelArgs()) {
            a.ptr(ptr(dx)).ptr(ptr(dg)).ptr(ptr(out)).i64(x.numel()).i32(act.ordinal()).f32(slope);
            launch1d(Kernel.ACTIVATE_BACKWARD, x.numel(), a);
        }
        return out;
    }

    /**
     * Rᵀ (in × out) of one axis: entry (p, q) is the weight of input index p in output index q, clamped edge
     * taps summed. It is the CPU backend's resize of the in×in identity taken as in planes of one row (a 1 → 1
     * axis resizes as the identity in every mode). Cached on the device per (in, out, mode, antialias).
     */
    private Tensor resizeFilterT(int in, int out, Interp mode, boolean aa) {
        String key = in + ">" + out + ":" + mode + ":" + aa;
        synchronized (resizeFilters) {
            Tensor f = resizeFilters.get(key);
            if (f == null) {
                float[] eye = new float[Math.multiplyExact(in, in)];
                for (int i = 0; i < in; i++) eye[i * in + i] = 1f;
                Tensor host = FILTERS.resize(Tensor.of(eye, in, 1, 1, in), 1, out, mode, aa);
                f = upload(host.reshape(in, out), false);
                resizeFilters.put(key, f);
            }
            return f;
        }
    }

    /**
     * A separable resize as two GEMMs per call, y_p = R_y · x_p · R_xᵀ for every plane p = (b, c): first all rows
     * at once, mid (P·H × outW) = x (P·H × W) · R_xᵀ, then per plane (strided batched) y_p = R_y · mid_p. The
     * GEMMs run at the backend's precision.
     */
    @Override
    public Tensor resize(Tensor x, int outH, int outW, Interp mode, boolean antialias) {
        ensureCurrent();
        if (x.rank() != 4) throw new IllegalArgumentException("resize: input " + x.shapeString() + " is not (B,C,H,W)");
        if (outH < 1 || outW < 1) throw new IllegalArgumentException("resize " + x.shapeString() + " to " + outH + "x" + outW);
        int planes = Math.toIntExact(x.dim(0) * x.dim(1)), hh = x.dimInt(2), ww = x.dimInt(3);
        Tensor rxT = resizeFilterT(ww, outW, mode, antialias), ryT = resizeFilterT(hh, outH, mode, antialias);
        Tensor dx = f32(x);
        Tensor out = empty(DType.F32, x.dim(0), x.dim(1), outH, outW);
        if (planes == 0) return out;
        Tensor mid = empty(DType.F32, (long) planes * hh * outW);
        try {
            gemm(false, false, Math.multiplyExact(planes, hh), outW, ww, 1f, dx, 0, ww, 0, rxT, 0, outW, 0, 0f, mid, 0, outW, 0, 1);
            // y_p (outH × outW) = R_y (= ryTᵀ, outH × H) · mid_p (H × outW)
            gemm(true, false, outH, outW, hh, 1f, ryT, 0, outH, 0, mid, 0, outW, (long) hh * outW,
                    0f, out, 0, outW, (long) outH * outW, planes);
        } finally {
            mid.close();
        }
        return out;
    }

    /** The transposed filters: dx_p = R_yᵀ · g_p · R_x, per plane then all rows at once. */
    @Override
    public Tensor resizeBackward(Tensor gradOut, int inH, int inW, Interp mode, boolean antialias) {
        ensureCurrent();
        if (gradOut.rank() != 4) throw new IllegalArgumentException("resize backward: gradient " + gradOut.shapeString() + " is not (B,C,H,W)");
        if (inH < 1 || inW < 1) throw new IllegalArgumentException("resize backward of " + gradOut.shapeString() + " to " + inH + "x" + inW);
        int planes = Math.toIntExact(gradOut.dim(0) * gradOut.dim(1)), outH = gradOut.dimInt(2), outW = gradOut.dimInt(3);
        Tensor rxT = resizeFilterT(inW, outW, mode, antialias), ryT = resizeFilterT(inH, outH, mode, antialias);
        Tensor dg = f32(gradOut);
        Tensor out = empty(DType.F32, gradOut.dim(0), gradOut.dim(1), inH, inW);
        if (planes == 0) return out;
        Tensor mid = empty(DType.F32, (long) planes * inH * outW);
        try {
            // mid_p (inH × outW) = ryT (inH × outH) · g_p (outH × outW)
            gemm(false, false, inH, outW, outH, 1f, ryT, 0, outH, 0, dg, 0, outW, (long) outH * outW,
                    0f, mid, 0, outW, (long) inH * outW, planes);
            // dx (P·inH × inW) = mid (P·inH × outW) · R_x (= rxTᵀ, outW × inW)
            gemm(false, true, Math.multiplyExact(planes, inH), inW, outW, 1f, mid, 0, outW, 0, rxT, 0, outW, 0,
                    0f, out, 0, inW, 0, 1);
        } finally {
            mid.close();
        }
        return out;
    }

    @Override
    public Tensor crop(Tensor x, int top, int left, int h, int w) {
        ensureCurrent();
        if (x.rank() != 4 || h < 1 || w < 1) throw new IllegalArgumentException("crop " + h + "x" + w + " of " + x.shapeString());
        Tensor dx = f32(x);
        Tensor out = empty(DType.F32, x.dim(0), x.dim(1), h, w);
        try (KernelArgs a = new KernelArgs()) {
            a.ptr(ptr(dx)).ptr(ptr(out)).i64(x.dim(0) * x.dim(1)).i32(x.dimInt(2)).i32(x.dimInt(3))
                    .i32(top).i32(left).i32(h).i32(w);
            launch1d(Kernel.CROP, out.numel(), a);
        }
        return out;
    }

    // ------------------------------------------------------------------ norms and softmax

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps, boolean silu) {
        ensureCurrent();
        int bsz = x.dimInt(0), ch = x.dimInt(1);
        if (ch % groups != 0) throw new IllegalArgumentException("groupNorm: " + ch + " channels not divisible by " + groups + " groups");
        if (gamma.numel() != ch || beta.numel() != ch) {
            throw new IllegalArgumentException("groupNorm: gamma " + gamma.shapeString() + " / beta " + beta.shapeString() + " for " + ch + " channels");
        }
        long spatial = x.numel() / ((long) bsz * ch);
        Tensor dx = f32(x), g = f32(gamma), bt = f32(beta);
        Tensor out = empty(DType.F32, x.shape());
        try (KernelArgs a = new KernelArgs()) {
            a.ptr(ptr(dx)).ptr(ptr(out)).ptr(ptr(g)).ptr(ptr(bt)).i32(ch).i32(groups).i64(spatial).f32(eps).i32(silu ? 1 : 0);
            launch(Kernel.GROUPNORM, bsz * groups, 1, 1, rowThreads(spatial * (ch / groups), 1024), 1, a);
        }
        return out;
    }

    @Override
    public Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps) {
        ensureCurrent();
        int d = x.dimInt(-1);
        if (gamma.numel() != d || beta.numel() != d) {
            throw new IllegalArgumentException("layerNorm: gamma " + gamma.shapeString() + " / beta " + beta.shapeString() + " for width " + d);
        }
        long rows = x.numel() / d;
        Tensor dx = f32(x), g = f32(gamma), bt = f32(beta);
        Tensor out = empty(DType.F32, x.shape());
        if (rows == 0) return out;
        try (KernelArgs a = new KernelArgs()) {
            a.ptr(ptr(dx)).ptr(ptr(out)).ptr(ptr(g)).ptr(ptr(bt)).i32(d).f32(eps);
            launch(Kernel.LAYERNORM, Math.toIntExact(rows), 1, 1, rowThreads(d, 256), 1, a);
        }
        return out;
    }

    @Override
    public Tensor softmax(Tensor x) {
        ensureCurrent();
        int d = x.dimInt(-1);
        long rows = x.numel() / d;
        Tensor dx = f32(x);
        Tensor out = empty(DType.F32, x.shape());
        if (rows == 0) return out;
        try (KernelArgs a = new KernelArgs()) {
            a.ptr(ptr(dx)).ptr(ptr(out)).i32(d);
            launch(Kernel.SOFTMAX, Math.toIntExact(rows), 1, 1, rowThreads(d, 256), 1, a);
        }
        return out;
    }

    // ------------------------------------------------------------------ attention

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, int heads, float scale, Tensor mask, boolean causal) {
        ensureCurrent();
        int bsz = q.dimInt(0), lq = q.dimInt(1), lk = k.dimInt(1);
        int dk = q.dimInt(2) / heads, dv = v.dimInt(2) / heads;
        if (q.dim(2) % heads != 0 || k.dim(2) != q.dim(2) || v.dim(1) != lk || k.dim(0) != bsz || v.dim(0) != bsz
                || v.dim(2) % heads != 0) {
            throw new IllegalArgumentException("attention: q " + q.shapeString() + ", k " + k.shapeString()
                    + ", v " + v.shapeString() + " with " + heads + " heads");
        }
        if (mask != null && (mask.numel() != (long) lq * lk)) {
            throw new IllegalArgumentException("attention: mask " + mask.shapeString() + " is not (" + lq + "," + lk + ")");
        }
        int variant = attentionVariant(Math.max(dk, dv));
        Kernel kern = Kernel.ATTENTION[variant];
        int qpb = 128 / Kernel.ATTENTION_THREADS_PER_QUERY[variant];
        Tensor dq = f32(q), dkT = f32(k), dvT = f32(v);
        Tensor dm = mask == null ? null : f32(mask);
        Tensor out = empty(DType.F32, bsz, lq, (long) heads * dv);
        if (lq == 0 || bsz == 0) return out;
        if (heads > 65535 || bsz > 65535) throw new IllegalArgumentException("attention: grid too large for " + bsz + " batch × " + heads + " heads");
        try (KernelArgs a = new KernelArgs()) {
            a.ptr(ptr(dq)).ptr(ptr(dkT)).ptr(ptr(dvT)).ptr(dm == null ? 0L : ptr(dm)).ptr(ptr(out))
                    .i32(lq).i32(lk).i32(heads).i32(dk).i32(dv).f32(scale).i32(causal ? 1 : 0);
            launch(kern, (lq + qpb - 1) / qpb, heads, bsz, 128, 1, a);
        }
        return out;
    }

    /** Index into {@link Kernel#ATTENTION} of the smallest variant whose head-dimension bound covers d. */
    static int attentionVariant(int d) {
        for (int i = 0; i < Kernel.ATTENTION.length; i++) if (Kernel.ATTENTION[i].attentionBound() >= d) return i;
        throw new IllegalArgumentException("attention head dimension " + d + " exceeds the CUDA kernels' maximum of "
                + Kernel.ATTENTION[Kernel.ATTENTION.length - 1].attentionBound());
    }

    // ------------------------------------------------------------------ element-wise

    @Override
    public Tensor unary(Unary op, Tensor x) {
        ensureCurrent();
        Tensor dx = f32(x);
        Tensor out = empty(DType.F32, x.shape());
        try (KernelArgs a = new KernelArgs()) {
            a.ptr(ptr(dx)).ptr(ptr(out)).i64(x.numel()).i32(op.ordinal());
            launch1d(Kernel.UNARY, x.numel(), a);
        }
        return out;
    }

    @Override
    public Tensor binary(Binary op, Tensor a, Tensor b) {
        ensureCurrent();
        Tensor out = empty(DType.F32, a.shape());
        binaryInto(op, f32(a), f32(b), out);
        return out;
    }

    /** out = a op broadcast(b); out may be a itself. */
    private void binaryInto(Binary op, Tensor a, Tensor b, Tensor out) {
        long n = a.numel();
        try (KernelArgs args = new KernelArgs()) {
            MemorySegment bc = broadcastStruct(a.shape(), b.shape(), args.arena());
            args.ptr(ptr(a)).ptr(ptr(b)).ptr(ptr(out)).i64(n).i32(op.ordinal()).struct(bc);
            launch1d(Kernel.BINARY, n, args);
        }
    }

    static final int MAX_BROADCAST_RANK = 6;

    /**
     * The {@code B2iBroadcast} struct of elementwise.cu (long long shape[6]; long long bstride[6]; int rank;
     * 104 bytes): a's shape with b's strides (0 along broadcast dimensions), size-1 dimensions dropped and
     * adjacent dimensions merged where b walks them contiguously (or not at all).
     */
    static MemorySegment broadcastStruct(long[] a, long[] b, Arena arena) {
        long[][] sd = broadcastDims(a, b);
        MemorySegment s = arena.allocate(104, 8);
        for (int d = 0; d < sd[0].length; d++) {
            s.setAtIndex(JAVA_LONG, d, sd[0][d]);
            s.setAtIndex(JAVA_LONG, MAX_BROADCAST_RANK + d, sd[1][d]);
        }
        s.set(JAVA_INT, 96, sd[0].length);
        return s;
    }

    /** {merged shape, b strides} for broadcasting b to a (NumPy rules, b right-aligned). */
    static long[][] broadcastDims(long[] a, long[] b) {
        if (b.length > a.length) throw new IllegalArgumentException("cannot broadcast " + Arrays.toString(b) + " to " + Arrays.toString(a));
        long[] bp = new long[a.length];
        Arrays.fill(bp, 1);
        System.arraycopy(b, 0, bp, a.length - b.length, b.length);
        long[] stride = new long[a.length];
        long s = 1;
        for (int d = a.length - 1; d >= 0; d--) {
            if (bp[d] != a[d] && bp[d] != 1) {
                throw new IllegalArgumentException("cannot broadcast " + Arrays.toString(b) + " to " + Arrays.toString(a));
            }
            stride[d] = bp[d] == 1 ? 0 : s;
            s *= bp[d];
        }
        long[] shape = new long[a.length];
        long[] bst = new long[a.length];
        int r = 0;
        for (int d = 0; d < a.length; d++) {
            if (a[d] == 1) continue;
            if (r > 0 && bst[r - 1] == stride[d] * a[d]) { // outer dim continues the inner one (or both broadcast)
                shape[r - 1] *= a[d];
                bst[r - 1] = stride[d];
            } else {
                shape[r] = a[d];
                bst[r] = stride[d];
                r++;
            }
        }
        if (r > MAX_BROADCAST_RANK) {
            throw new IllegalArgumentException("broadcast of " + Arrays.toString(b) + " to " + Arrays.toString(a)
                    + " needs " + r + " dimensions; the CUDA kernel handles " + MAX_BROADCAST_RANK);
        }
        return new long[][]{Arrays.copyOf(shape, r), Arrays.copyOf(bst, r)};
    }

    @Override
    public Tensor axpby(float alpha, Tensor x, float beta, Tensor y) {
        ensureCurrent();
        if (!x.sameShape(y)) throw new IllegalArgumentException("axpby: " + x.shapeString() + " vs " + y.shapeString());
        Tensor dx = f32(x), dy = f32(y);
        Tensor out = empty(DType.F32, x.shape());
        try (KernelArgs a = new KernelArgs()) {
            a.ptr(ptr(dx)).ptr(ptr(dy)).ptr(ptr(out)).i64(x.numel()).f32(alpha).f32(beta);
            launch1d(Kernel.AXPBY, x.numel(), a);
        }
        return out;
    }

    @Override
    public Tensor geglu(Tensor x) {
        ensureCurrent();
        int two = x.dimInt(-1);
        if (two % 2 != 0) throw new IllegalArgumentException("geglu: last dimension of " + x.shapeString() + " is odd");
        int f = two / 2;
        long rows = x.numel() / two;
        long[] s = x.shape();
        s[s.length - 1] = f;
        Tensor dx = f32(x);
        Tensor out = empty(DType.F32, s);
        try (KernelArgs a = new KernelArgs()) {
            a.ptr(ptr(dx)).ptr(ptr(out)).i64(rows).i32(f);
            launch1d(Kernel.GEGLU, rows * f, a);
        }
        return out;
    }

    // ------------------------------------------------------------------ layout

    @Override
    public Tensor upsampleNearest2x(Tensor x) {
        ensureCurrent();
        if (x.rank() != 4) throw new IllegalArgumentException("upsampleNearest2x expects (B,C,H,W), got " + x.shapeString());
        long planes = x.dim(0) * x.dim(1);
        int hh = x.dimInt(2), ww = x.dimInt(3);
        Tensor dx = f32(x);
        Tensor out = empty(DType.F32, x.dim(0), x.dim(1), 2L * hh, 2L * ww);
        try (KernelArgs a = new KernelArgs()) {
            a.ptr(ptr(dx)).ptr(ptr(out)).i64(planes).i32(hh).i32(ww);
            launch1d(Kernel.UPSAMPLE2X, out.numel(), a);
        }
        return out;
    }

    @Override
    public Tensor upsampleNearest(Tensor x, int outH, int outW) {
        ensureCurrent();
        if (x.rank() != 4 || outH < 1 || outW < 1) {
            throw new IllegalArgumentException("upsampleNearest expects (B,C,H,W) and a positive size, got " + x.shapeString()
                    + " to " + outH + "x" + outW);
        }
        long planes = x.dim(0) * x.dim(1);
        int hh = x.dimInt(2), ww = x.dimInt(3);
        Tensor dx = f32(x);
        Tensor out = empty(DType.F32, x.dim(0), x.dim(1), outH, outW);
        try (KernelArgs a = new KernelArgs()) {
            a.ptr(ptr(dx)).ptr(ptr(out)).i64(planes).i32(hh).i32(ww).i32(outH).i32(outW);
            launch1d(Kernel.UPSAMPLE, out.numel(), a);
        }
        return out;
    }

    @Override
    public Tensor concatChannels(Tensor a, Tensor b) {
        ensureCurrent();
        long[] sa = a.shape(), sb = b.shape();
        if (sa.length != sb.length || sa.length < 2 || sa[0] != sb[0]
                || !Arrays.equals(Arrays.copyOfRange(sa, 2, sa.length), Arrays.copyOfRange(sb, 2, sb.length))) {
            throw new IllegalArgumentException("concat: " + a.shapeString() + " and " + b.shapeString());
        }
        long bsz = sa[0];
        long[] s = sa.clone();
        s[1] = sa[1] + sb[1];
        Tensor da = f32(a), db = f32(b);
        Tensor out = empty(DType.F32, s);
        if (bsz == 0) return out;
        try (KernelArgs k = new KernelArgs()) {
            k.ptr(ptr(da)).ptr(ptr(db)).ptr(ptr(out)).i64(bsz).i64(a.numel() / bsz).i64(b.numel() / bsz);
            launch1d(Kernel.CONCAT, out.numel(), k);
        }
        return out;
    }

    @Override
    public Tensor transposeLast2(Tensor x) {
        ensureCurrent();
        int m = x.dimInt(-2), n = x.dimInt(-1);
        long batch = x.numel() / Math.max(1L, (long) m * n);
        long[] s = x.shape();
        s[s.length - 2] = n;
        s[s.length - 1] = m;
        Tensor dx = f32(x);
        Tensor out = empty(DType.F32, s);
        long plane = (long) m * n * 4;
        for (long b0 = 0; b0 < batch && plane > 0; b0 += 65535) { // grid.z is at most 65535
            int nb = (int) Math.min(65535, batch - b0);
            try (KernelArgs a = new KernelArgs()) {
                a.ptr(ptr(dx) + b0 * plane).ptr(ptr(out) + b0 * plane).i32(m).i32(n);
                launch(Kernel.TRANSPOSE, (n + 31) / 32, (m + 31) / 32, nb, 32, 8, a);
            }
        }
        return out;
    }

    @Override
    public Tensor embedding(Tensor table, Tensor ids) {
        ensureCurrent();
        if (ids.dtype() != DType.I32 && ids.dtype() != DType.I64) {
            throw new IllegalArgumentException("embedding ids must be i32 or i64, got " + ids.shapeString());
        }
        if (table.rank() != 2) throw new IllegalArgumentException("embedding table must be (V,D), got " + table.shapeString());
        long[] idv = (ids.isOnDevice() ? downloadIds(ids) : ids).toLongArray();
        long vocab = table.dim(0);
        for (long id : idv) {
            if (id < 0 || id >= vocab) throw new IndexOutOfBoundsException("token id " + id + " outside vocabulary of " + vocab);
        }
        int d = table.dimInt(1);
        Tensor dIds = copyToDevice(Tensor.wrap(MemorySegment.ofArray(idv), DType.I64, idv.length));
        Tensor dt = f32(table);
        Tensor out = empty(DType.F32, idv.length, d);
        try (KernelArgs a = new KernelArgs()) {
            a.ptr(ptr(dt)).ptr(ptr(dIds)).ptr(ptr(out)).i64(idv.length).i32(d);
            launch1d(Kernel.EMBEDDING, (long) idv.length * d, a);
        }
        return out;
    }

    /** Integer device tensors come back raw (download converts to f32, which would be wrong above 2^24). */
    private Tensor downloadIds(Tensor ids) {
        Tensor t = mine(ids);
        long bytes = t.numel() * t.dtype().bytes;
        Tensor host = Tensor.allocateHeap(t.dtype(), t.shape());
        try (Arena a = Arena.ofConfined()) {
            MemorySegment staging = a.allocate(Math.max(1, bytes), 64);
            if (bytes > 0) CudaDriver.memcpyDtoHAsync(staging, ptr(t), bytes, stream);
            CudaDriver.streamSynchronize(stream);
            host.segment().copyFrom(staging.asSlice(0, bytes));
        }
        return host;
    }

    // ------------------------------------------------------------------ CUDA graphs

    private void requireNotCapturing(String what) {
        if (capturing) {
            throw new IllegalStateException(what + " during CUDA graph capture: upload inputs and weights, and run the "
                    + "work once, before capturing");
        }
    }

    /**
     * Captures the backend work that {@code work} queues into a CUDA graph (stream capture, relaxed mode). Run the
     * same work once before capturing, so that weights are uploaded, kernels loaded and buffers cached: nothing
     * may be uploaded or downloaded during the capture. Tensors that the work reads must stay alive while the
     * graph is used; results of the captured work are rewritten by each {@link CudaGraph#replay()}.
     */
    public CudaGraph capture(Runnable work) {
        ensureCurrent();
        CudaDriver.streamSynchronize(stream);
        alloc.beginCapture();
        capturing = true;
        CudaDriver.streamBeginCapture(stream, CudaDriver.CU_STREAM_CAPTURE_MODE_RELAXED);
        MemorySegment graph;
        try {
            work.run();
        } catch (RuntimeException | Error e) {
            capturing = false;
            try {
                CudaDriver.graphDestroy(CudaDriver.streamEndCapture(stream));
            } catch (CudaException ignored) {
                // the capture was already invalidated; the original failure is what matters
            }
            alloc.unpin(alloc.endCapture());
            throw e;
        }
        capturing = false;
        long[] pinned;
        try {
            graph = CudaDriver.streamEndCapture(stream);
        } finally {
            pinned = alloc.endCapture();
        }
        try {
            return new CudaGraph(this, graph, CudaDriver.graphInstantiate(graph), pinned);
        } catch (CudaException e) {
            CudaDriver.graphDestroy(graph);
            alloc.unpin(pinned);
            throw e;
        }
    }

    void launchGraph(MemorySegment exec) {
        ensureCurrent();
        CudaDriver.graphLaunch(exec, stream);
    }

    void destroyGraph(MemorySegment graph, MemorySegment exec, long[] pinned) {
        ensureCurrent();
        CudaDriver.streamSynchronize(stream); // a replay may still be running
        CudaDriver.graphExecDestroy(exec);
        CudaDriver.graphDestroy(graph);
        alloc.unpin(pinned);
    }

    /** Overwrites the device tensor {@code dst} with {@code host} (same shape; converted to dst's dtype), in place. */
    public void copyInto(Tensor dst, Tensor host) {
        ensureCurrent();
        if (!dst.isOnDevice() || !dst.sameShape(host)) {
            throw new IllegalArgumentException("copyInto: " + dst + " ← " + host.shapeString());
        }
        mine(dst);
        Tensor src = host.isOnDevice() ? mine(host)
                : copyToDevice(host.dtype() == DType.F64 || host.dtype() == DType.U8 ? host.toF32() : host);
        if (src.dtype() != dst.dtype()) {
            if (!src.dtype().isFloating() || !dst.dtype().isFloating()) {
                throw new IllegalArgumentException("copyInto: " + dst + " ← " + host.shapeString());
            }
            src = convert(src, dst.dtype());
        }
        CudaDriver.memcpyDtoDAsync(ptr(dst), ptr(src), dst.numel() * dst.dtype().bytes, stream);
        CudaDriver.streamSynchronize(stream);
    }

    // ------------------------------------------------------------------ lifetime

    @Override
    public void close() {
        if (closed) return;
        ensureCurrent();
        CudaDriver.streamSynchronize(stream);
        synchronized (weights) {
            weights.clear();
        }
        synchronized (resizeFilters) {
            resizeFilters.clear();
        }
        kernels.close();
        CuBlas.destroy(blas);
        CudaDriver.memFree(blasWorkspace);
        alloc.close();
        CudaDriver.streamDestroy(stream);
        closed = true;
        CURRENT.remove();
        CudaDriver.primaryCtxRelease(CudaDriver.device(ordinal));
    }
}
