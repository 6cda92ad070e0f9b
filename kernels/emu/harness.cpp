// Runs every kernel of kernels/*.cu under the CPU emulation of include/emu.h, with the launch configurations the
// Java backend uses, and compares each with a naive reference written here. Prints one line per case and
// "N passed, M failed". Build and run: kernels/emu/run.sh
#include "emu.h"
#include "../attention.cu"
#include "../concat.cu"
#include "../elementwise.cu"
#include "../geglu.cu"
#include "../groupnorm.cu"
#include "../im2col.cu"
#include "../layernorm.cu"
#include "../softmax.cu"
#include "../transpose.cu"
#include "../upsample.cu"
#include "../pool.cu"
#include "../activation.cu"
#include "../crop.cu"
#include "../depthwise.cu"
#include "../col2im.cu"

#include <array>
#include <cstdio>
#include <random>
#include <string>

static int passed = 0, failed = 0;
static std::mt19937 rng(42);

static std::vector<float> randn(size_t n) {
    std::normal_distribution<float> d;
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

static void check(const std::string& what, const std::vector<float>& got, const std::vector<double>& ref, double tol) {
    double num = 0, den = 0;
    bool finite = true;
    for (size_t i = 0; i < ref.size(); i++) {
        double d = got[i] - ref[i];
        if (std::isnan(got[i]) != std::isnan(ref[i])) finite = false;
        if (!std::isnan(ref[i])) {
            num += d * d;
            den += ref[i] * ref[i];
        }
    }
    double e = den == 0 ? std::sqrt(num) : std::sqrt(num / den);
    bool ok = finite && e <= tol && got.size() == ref.size();
    (ok ? passed : failed)++;
    std::printf("%s %-60s rel.err %.2e\n", ok ? "PASS" : "FAIL", what.c_str(), e);
}

static unsigned blocks1d(long long n) { return (unsigned)std::max(1LL, std::min((n + 255) / 256, 1LL << 20)); }
static unsigned rowThreads(long long n, int mx) { return (unsigned)std::max(32LL, std::min((long long)mx, (n + 31) / 32 * 32)); }

// ------------------------------------------------------------------ attention
struct AttVariant { int bound, t; void (*fn)(const float*, const float*, const float*, const float*, float*, int, int, int, int, int, float, int); };
static const AttVariant VARIANTS[] = {
    {8, 8, b2i_attention_f32_d8}, {32, 8, b2i_attention_f32_d32}, {40, 8, b2i_attention_f32_d40},
    {64, 8, b2i_attention_f32_d64}, {80, 8, b2i_attention_f32_d80}, {128, 16, b2i_attention_f32_d128},
    {160, 8, b2i_attention_f32_d160}, {256, 16, b2i_attention_f32_d256}, {512, 32, b2i_attention_f32_d512}};

static void attention(int B, int Lq, int Lk, int H, int dk, int dv, int mode) {
    auto q = randn((size_t)B * Lq * H * dk), k = randn((size_t)B * Lk * H * dk), v = randn((size_t)B * Lk * H * dv);
    std::vector<float> mask = mode == 2 ? randn((size_t)Lq * Lk) : std::vector<float>();
    bool causal = mode == 1;
    float scale = 1.f / std::sqrt((float)dk);
    std::vector<double> ref((size_t)B * Lq * H * dv);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < Lq; i++) {
                std::vector<double> s(Lk);
                double mx = -INFINITY;
                int end = causal ? std::min(Lk, i + 1) : Lk;
                for (int j = 0; j < end; j++) {
                    double d = 0;
                    for (int c = 0; c < dk; c++) d += (double)q[((size_t)b * Lq + i) * H * dk + h * dk + c] * k[((size_t)b * Lk + j) * H * dk + h * dk + c];
                    s[j] = scale * d + (mode == 2 ? mask[(size_t)i * Lk + j] : 0);
                    mx = std::max(mx, s[j]);
                }
                double sum = 0;
                for (int j = 0; j < end; j++) sum += (s[j] = std::exp(s[j] - mx));
                for (int c = 0; c < dv; c++) {
                    double o = 0;
                    for (int j = 0; j < end; j++) o += s[j] / sum * v[((size_t)b * Lk + j) * H * dv + h * dv + c];
                    ref[((size_t)b * Lq + i) * H * dv + h * dv + c] = o;
                }
            }
    int d = std::max(dk, dv);
    const AttVariant* var = nullptr;
    for (auto& x : VARIANTS) if (x.bound >= d) { var = &x; break; }
    int qpb = 128 / var->t;
    std::vector<float> out(ref.size(), NAN);
    const float* mp = mode == 2 ? mask.data() : nullptr;
    emu_launch({(unsigned)((Lq + qpb - 1) / qpb), (unsigned)H, (unsigned)B}, {128, 1, 1},
               [&] { var->fn(q.data(), k.data(), v.data(), mp, out.data(), Lq, Lk, H, dk, dv, scale, causal ? 1 : 0); });
    char name[160];
    std::snprintf(name, sizeof name, "attention B%d Lq%d Lk%d H%d dk%d dv%d %s (d%d)", B, Lq, Lk, H, dk, dv,
                  mode == 1 ? "causal" : mode == 2 ? "mask" : "", var->bound);
    check(name, out, ref, 1e-5);
}

// ------------------------------------------------------------------ norms
static void groupnorm(int B, int C, int S, int G, bool silu) {
    auto x = randn((size_t)B * C * S), g = randn(C), bt = randn(C);
    for (auto& e : x) e += 3.f;
    std::vector<double> ref(x.size());
    int cpg = C / G;
    for (int bg = 0; bg < B * G; bg++) {
        size_t base = (size_t)bg * cpg * S, len = (size_t)cpg * S;
        double m = 0, q = 0;
        for (size_t i = 0; i < len; i++) m += x[base + i];
        m /= len;
        for (size_t i = 0; i < len; i++) q += (x[base + i] - m) * (x[base + i] - m);
        double inv = 1 / std::sqrt(q / len + 1e-5);
        for (size_t i = 0; i < len; i++) {
            int c = bg % G * cpg + (int)(i / S);
            double y = (x[base + i] - m) * inv * g[c] + bt[c];
            ref[base + i] = silu ? y / (1 + std::exp(-y)) : y;
        }
    }
    std::vector<float> out(x.size());
    // the backend launches up to 1024 threads; the kernel works for any multiple of 32, and fewer threads keep
    // the emulation light
    emu_launch({(unsigned)(B * G)}, {rowThreads((long long)cpg * S, 256)},
               [&] { b2i_groupnorm_f32(x.data(), out.data(), g.data(), bt.data(), C, G, S, 1e-5f, silu); });
    check("groupnorm B" + std::to_string(B) + " C" + std::to_string(C) + " S" + std::to_string(S) + " G" + std::to_string(G) + (silu ? " silu" : ""), out, ref, 1e-5);
}

static void layernorm(int rows, int D) {
    auto x = randn((size_t)rows * D), g = randn(D), bt = randn(D);
    std::vector<double> ref(x.size());
    for (int r = 0; r < rows; r++) {
        double m = 0, q = 0;
        for (int i = 0; i < D; i++) m += x[(size_t)r * D + i];
        m /= D;
        for (int i = 0; i < D; i++) q += (x[(size_t)r * D + i] - m) * (x[(size_t)r * D + i] - m);
        double inv = 1 / std::sqrt(q / D + 1e-5);
        for (int i = 0; i < D; i++) ref[(size_t)r * D + i] = (x[(size_t)r * D + i] - m) * inv * g[i] + bt[i];
    }
    std::vector<float> out(x.size());
    emu_launch({(unsigned)rows}, {rowThreads(D, 256)}, [&] { b2i_layernorm_f32(x.data(), out.data(), g.data(), bt.data(), D, 1e-5f); });
    check("layernorm rows" + std::to_string(rows) + " D" + std::to_string(D), out, ref, 1e-5);
}

static void softmax(int rows, int n) {
    auto x = randn((size_t)rows * n);
    for (size_t i = 0; i < x.size(); i += 5) x[i] = -INFINITY;
    x[1] = 0.5f;
    std::vector<double> ref(x.size());
    for (int r = 0; r < rows; r++) {
        double m = -INFINITY, s = 0;
        for (int i = 0; i < n; i++) m = std::max(m, (double)x[(size_t)r * n + i]);
        for (int i = 0; i < n; i++) s += std::exp(x[(size_t)r * n + i] - m);
        for (int i = 0; i < n; i++) ref[(size_t)r * n + i] = std::exp(x[(size_t)r * n + i] - m) / s;
    }
    std::vector<float> out(x.size());
    emu_launch({(unsigned)rows}, {rowThreads(n, 256)}, [&] { b2i_softmax_f32(x.data(), out.data(), n); });
    check("softmax rows" + std::to_string(rows) + " n" + std::to_string(n), out, ref, 1e-6);
}

// ------------------------------------------------------------------ element-wise
static double gelu(double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }

static void elementwise() {
    long long n = 1000;
    auto x = randn(n), y = randn(n);
    for (int op = 0; op < 5; op++) {
        std::vector<double> ref(n);
        for (long long i = 0; i < n; i++) {
            double v = x[i];
            ref[i] = op == 0 ? v / (1 + std::exp(-v)) : op == 1 ? gelu(v) : op == 2 ? v / (1 + std::exp(-1.702 * v)) : op == 3 ? std::exp(v) : -v;
        }
        std::vector<float> out(n);
        emu_launch({blocks1d(n)}, {256}, [&] { b2i_unary_f32(x.data(), out.data(), n, op); });
        check("unary op " + std::to_string(op), out, ref, 1e-6);
    }
    {
        std::vector<double> ref(n);
        for (long long i = 0; i < n; i++) ref[i] = 0.3 * x[i] - 1.7 * y[i];
        std::vector<float> out(n);
        emu_launch({blocks1d(n)}, {256}, [&] { b2i_axpby_f32(x.data(), y.data(), out.data(), n, 0.3f, -1.7f); });
        check("axpby", out, ref, 1e-6);
        std::vector<float> nan(n, NAN);
        for (long long i = 0; i < n; i++) ref[i] = 2.0 * x[i];
        emu_launch({blocks1d(n)}, {256}, [&] { b2i_axpby_f32(x.data(), nan.data(), out.data(), n, 2.f, 0.f); });
        check("axpby beta 0 over NaN", out, ref, 1e-7);
    }
    {   // conv-bias broadcast (2,5,3,4) + (5,1,1), merged by the host to shape {2,5,12}, bstride {0,1,0}
        int B = 2, C = 5, S = 12;
        auto a = randn((size_t)B * C * S), b = randn(C);
        B2iBroadcast bc{};
        bc.rank = 3;
        bc.shape[0] = B; bc.shape[1] = C; bc.shape[2] = S;
        bc.bstride[0] = 0; bc.bstride[1] = 1; bc.bstride[2] = 0;
        for (int op = 0; op < 3; op++) {
            std::vector<double> ref(a.size());
            for (size_t i = 0; i < a.size(); i++) {
                double bv = b[i / S % C];
                ref[i] = op == 0 ? a[i] + bv : op == 1 ? a[i] - bv : a[i] * bv;
            }
            std::vector<float> out = a; // in place, as the conv bias add runs
            long long m = (long long)a.size();
            emu_launch({blocks1d(m)}, {256}, [&] { b2i_binary_f32(out.data(), b.data(), out.data(), m, op, bc); });
            check("binary broadcast in place op " + std::to_string(op), out, ref, 1e-7);
        }
    }
    {
        long long rows = 21; int F = 5;
        auto g = randn(rows * 2 * F);
        std::vector<double> ref(rows * F);
        for (long long r = 0; r < rows; r++) for (int j = 0; j < F; j++) ref[r * F + j] = g[r * 2 * F + j] * gelu(g[r * 2 * F + F + j]);
        std::vector<float> out(rows * F);
        emu_launch({blocks1d(rows * F)}, {256}, [&] { b2i_geglu_f32(g.data(), out.data(), rows, F); });
        check("geglu", out, ref, 1e-6);
    }
    {
        std::vector<__half> h(n);
        std::vector<__nv_bfloat16> bf(n);
        std::vector<float> back(n), back2(n);
        emu_launch({blocks1d(n)}, {256}, [&] { b2i_f32_to_f16(x.data(), h.data(), n); });
        emu_launch({blocks1d(n)}, {256}, [&] { b2i_f16_to_f32(h.data(), back.data(), n); });
        emu_launch({blocks1d(n)}, {256}, [&] { b2i_f32_to_bf16(x.data(), bf.data(), n); });
        emu_launch({blocks1d(n)}, {256}, [&] { b2i_bf16_to_f32(bf.data(), back2.data(), n); });
        std::vector<double> ref(x.begin(), x.end());
        check("f32 -> f16 -> f32", back, ref, 1e-3);
        check("f32 -> bf16 -> f32", back2, ref, 8e-3);
    }
    {
        int V = 50, d = 7;
        auto table = randn((size_t)V * d);
        std::vector<long long> ids = {0, 49, 3, 3, 17};
        std::vector<double> ref;
        for (long long id : ids) for (int j = 0; j < d; j++) ref.push_back(table[id * d + j]);
        std::vector<float> out(ref.size());
        long long m = (long long)ids.size();
        emu_launch({blocks1d(m * d)}, {256}, [&] { b2i_embedding_f32(table.data(), ids.data(), out.data(), m, d); });
        check("embedding", out, ref, 0);
    }
}

// ------------------------------------------------------------------ layout
static void layout() {
    {
        long long planes = 6; int H = 3, W = 5;
        auto x = randn(planes * H * W);
        std::vector<double> ref(planes * 4 * H * W);
        for (long long p = 0; p < planes; p++) for (int yy = 0; yy < 2 * H; yy++) for (int xx = 0; xx < 2 * W; xx++)
            ref[(p * 2 * H + yy) * 2 * W + xx] = x[(p * H + yy / 2) * W + xx / 2];
        std::vector<float> out(ref.size());
        emu_launch({blocks1d((long long)ref.size())}, {256}, [&] { b2i_upsample_nearest2x_f32(x.data(), out.data(), planes, H, W); });
        check("upsample nearest x2", out, ref, 0);
    }
    // resize to a given size: PyTorch's rule min(floor(o * (float)(in/out)), in-1), float32 scale and product
    for (auto [H, W, OH, OW] : std::vector<std::array<int, 4>>{{3, 4, 5, 7}, {20, 23, 40, 45}, {2, 1, 82, 1}}) {
        long long planes = 3;
        auto x = randn(planes * H * W);
        std::vector<double> ref((size_t)(planes * OH * OW));
        float sy = (float)H / (float)OH, sx = (float)W / (float)OW;
        for (long long p = 0; p < planes; p++) for (int yy = 0; yy < OH; yy++) for (int xx = 0; xx < OW; xx++) {
            int iy = std::min((int)std::floor((float)yy * sy), H - 1), ix = std::min((int)std::floor((float)xx * sx), W - 1);
            ref[(p * OH + yy) * OW + xx] = x[(p * H + iy) * W + ix];
        }
        std::vector<float> out(ref.size());
        emu_launch({blocks1d((long long)ref.size())}, {256}, [&] { b2i_upsample_nearest_f32(x.data(), out.data(), planes, H, W, OH, OW); });
        check("upsample nearest to size", out, ref, 0);
    }
    {
        long long B = 3, bA = 8, bB = 12;
        auto a = randn(B * bA), b = randn(B * bB);
        std::vector<double> ref;
        for (long long i = 0; i < B; i++) {
            for (long long j = 0; j < bA; j++) ref.push_back(a[i * bA + j]);
            for (long long j = 0; j < bB; j++) ref.push_back(b[i * bB + j]);
        }
        std::vector<float> out(ref.size());
        emu_launch({blocks1d((long long)ref.size())}, {256}, [&] { b2i_concat_channels_f32(a.data(), b.data(), out.data(), B, bA, bB); });
        check("concat channels", out, ref, 0);
    }
    {
        int batch = 3, M = 37, N = 65;
        auto x = randn((size_t)batch * M * N);
        std::vector<double> ref(x.size());
        for (int b = 0; b < batch; b++) for (int i = 0; i < M; i++) for (int j = 0; j < N; j++)
            ref[((size_t)b * N + j) * M + i] = x[((size_t)b * M + i) * N + j];
        std::vector<float> out(x.size());
        emu_launch({(unsigned)((N + 31) / 32), (unsigned)((M + 31) / 32), (unsigned)batch}, {32, 8, 1},
                   [&] { b2i_transpose_last2_f32(x.data(), out.data(), M, N); });
        check("transpose last two", out, ref, 0);
    }
    for (int stride = 1; stride <= 2; stride++) {  // im2col, then a naive GEMM, against a naive convolution
        int C = 3, H = 7, W = 6, O = 4, kh = 3, kw = 3, pt = 1, pl = 1, pb = stride == 1 ? 1 : 0, pr = 1;
        int Ho = (H + pt + pb - kh) / stride + 1, Wo = (W + pl + pr - kw) / stride + 1;
        auto x = randn((size_t)C * H * W), w = randn((size_t)O * C * kh * kw);
        std::vector<double> ref((size_t)O * Ho * Wo, 0);
        for (int o = 0; o < O; o++) for (int yy = 0; yy < Ho; yy++) for (int xx = 0; xx < Wo; xx++) {
            double s = 0;
            for (int c = 0; c < C; c++) for (int i = 0; i < kh; i++) for (int j = 0; j < kw; j++) {
                int iy = yy * stride - pt + i, ix = xx * stride - pl + j;
                if (iy >= 0 && iy < H && ix >= 0 && ix < W) s += (double)w[((o * C + c) * kh + i) * kw + j] * x[(c * H + iy) * W + ix];
            }
            ref[(o * Ho + yy) * Wo + xx] = s;
        }
        std::vector<float> out((size_t)O * Ho * Wo);
        int band = 2; // bands of output rows, as the backend does for large images
        for (int r0 = 0; r0 < Ho; r0 += band) {
            int rows = std::min(band, Ho - r0), cols = rows * Wo, ckk = C * kh * kw;
            std::vector<float> col((size_t)ckk * cols);
            emu_launch({blocks1d((long long)ckk * cols)}, {256},
                       [&] { b2i_im2col_f32(x.data(), col.data(), C, H, W, kh, kw, stride, stride, pt, pl, Wo, r0, rows); });
            for (int o = 0; o < O; o++) for (int q = 0; q < cols; q++) {
                double s = 0;
                for (int e = 0; e < ckk; e++) s += (double)w[o * ckk + e] * col[(size_t)e * cols + q];
                out[(size_t)o * Ho * Wo + (size_t)r0 * Wo + q] = (float)s;
            }
        }
        check("im2col + GEMM = conv3x3 stride " + std::to_string(stride), out, ref, 1e-6);
    }
}


// ------------------------------------------------------------------ vision primitives
// PyTorch's pooling output size (dilation 1), as the backend computes it.
static int poolOut(int in, int k, int s, int pad, bool ceil) {
    int span = in + 2 * pad - k;
    int out = (ceil ? (span + s - 1) / s : span / s) + 1;
    if (ceil && (out - 1) * s >= in + pad) out--;
    return out;
}

static std::string dims(std::initializer_list<int> v) {
    std::string s;
    for (int d : v) s += (s.empty() ? "" : "x") + std::to_string(d);
    return s;
}

static void maxpool(int P, int H, int W, int k, int s, int pad, bool ceil, bool ties) {
    auto x = randn((size_t)P * H * W);
    if (ties) for (auto& v : x) v = std::round(v);   // many equal values: the first in the window must win
    int Ho = poolOut(H, k, s, pad, ceil), Wo = poolOut(W, k, s, pad, ceil);
    auto g = randn((size_t)P * Ho * Wo);
    std::vector<double> ref((size_t)P * Ho * Wo), dref(x.size(), 0);
    for (int p = 0; p < P; p++) for (int r = 0; r < Ho; r++) for (int q = 0; q < Wo; q++) {
        double best = -INFINITY; long arg = -1;
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) {
            int yy = r * s - pad + i, xx = q * s - pad + j;
            if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
            double v = x[((size_t)p * H + yy) * W + xx];
            if (arg < 0 || v > best) { best = v; arg = ((long)p * H + yy) * W + xx; }
        }
        size_t o = ((size_t)p * Ho + r) * Wo + q;
        ref[o] = best;
        if (arg >= 0) dref[arg] += g[o];
    }
    long long planes = P;
    std::vector<float> out(ref.size()), dx(x.size());
    emu_launch({blocks1d((long long)out.size())}, {256}, [&] { b2i_maxpool2d_f32(x.data(), out.data(), planes, H, W, Ho, Wo, k, k, s, s, pad, pad); });
    emu_launch({blocks1d((long long)dx.size())}, {256}, [&] { b2i_maxpool2d_backward_f32(x.data(), g.data(), dx.data(), planes, H, W, Ho, Wo, k, k, s, s, pad, pad); });
    std::string name = "maxpool " + dims({P, H, W}) + " k" + std::to_string(k) + " s" + std::to_string(s) + " p" + std::to_string(pad) + (ceil ? " ceil" : "") + (ties ? " ties" : "");
    check(name, out, ref, 0);
    check(name + " backward", dx, dref, 1e-6);
}

static void avgpool(int P, int H, int W, int k, int s, int pad, bool ceil, bool includePad) {
    auto x = randn((size_t)P * H * W);
    int Ho = poolOut(H, k, s, pad, ceil), Wo = poolOut(W, k, s, pad, ceil);
    auto g = randn((size_t)P * Ho * Wo);
    std::vector<double> ref((size_t)P * Ho * Wo), dref(x.size(), 0);
    for (int p = 0; p < P; p++) for (int r = 0; r < Ho; r++) for (int q = 0; q < Wo; q++) {
        double sum = 0; int inside = 0, padded = 0;
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) {
            int yy = r * s - pad + i, xx = q * s - pad + j;
            if (yy >= H + pad || xx >= W + pad) continue;   // beyond the padded input (ceil mode)
            padded++;
            if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
            inside++;
            sum += x[((size_t)p * H + yy) * W + xx];
        }
        double div = includePad ? padded : inside;
        size_t o = ((size_t)p * Ho + r) * Wo + q;
        ref[o] = sum / div;
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) {
            int yy = r * s - pad + i, xx = q * s - pad + j;
            if (yy >= 0 && yy < H && xx >= 0 && xx < W) dref[((size_t)p * H + yy) * W + xx] += g[o] / div;
        }
    }
    long long planes = P;
    std::vector<float> out(ref.size()), dx(x.size());
    int inc = includePad;
    emu_launch({blocks1d((long long)out.size())}, {256}, [&] { b2i_avgpool2d_f32(x.data(), out.data(), planes, H, W, Ho, Wo, k, k, s, s, pad, pad, inc); });
    emu_launch({blocks1d((long long)dx.size())}, {256}, [&] { b2i_avgpool2d_backward_f32(g.data(), dx.data(), planes, H, W, Ho, Wo, k, k, s, s, pad, pad, inc); });
    std::string name = "avgpool " + dims({P, H, W}) + " k" + std::to_string(k) + " s" + std::to_string(s) + " p" + std::to_string(pad) + (ceil ? " ceil" : "") + (includePad ? " incl.pad" : "");
    check(name, out, ref, 1e-6);
    check(name + " backward", dx, dref, 1e-6);
}

static void adaptive(int P, int H, int W, int Ho, int Wo) {
    auto x = randn((size_t)P * H * W), g = randn((size_t)P * Ho * Wo);
    std::vector<double> ref((size_t)P * Ho * Wo), dref(x.size(), 0);
    for (int p = 0; p < P; p++) for (int r = 0; r < Ho; r++) for (int q = 0; q < Wo; q++) {
        int y0 = (int)std::floor((double)r * H / Ho), y1 = (int)std::ceil((double)(r + 1) * H / Ho);
        int x0 = (int)std::floor((double)q * W / Wo), x1 = (int)std::ceil((double)(q + 1) * W / Wo);
        double sum = 0, div = (double)(y1 - y0) * (x1 - x0);
        for (int yy = y0; yy < y1; yy++) for (int xx = x0; xx < x1; xx++) sum += x[((size_t)p * H + yy) * W + xx];
        size_t o = ((size_t)p * Ho + r) * Wo + q;
        ref[o] = sum / div;
        for (int yy = y0; yy < y1; yy++) for (int xx = x0; xx < x1; xx++) dref[((size_t)p * H + yy) * W + xx] += g[o] / div;
    }
    long long planes = P;
    std::vector<float> out(ref.size()), dx(x.size());
    emu_launch({blocks1d((long long)out.size())}, {256}, [&] { b2i_adaptive_avgpool2d_f32(x.data(), out.data(), planes, H, W, Ho, Wo); });
    emu_launch({blocks1d((long long)dx.size())}, {256}, [&] { b2i_adaptive_avgpool2d_backward_f32(g.data(), dx.data(), planes, H, W, Ho, Wo); });
    std::string name = "adaptive avgpool " + dims({P, H, W}) + " -> " + dims({Ho, Wo});
    check(name, out, ref, 1e-6);
    check(name + " backward", dx, dref, 1e-6);
}

static void activations() {
    long long n = 1001;
    auto x = randn(n), g = randn(n);
    x[0] = 0.f;   // ReLU's derivative at 0 is 0
    const char* names[] = {"relu", "leaky relu", "sigmoid", "silu"};
    float slope = 0.2f;
    for (int act = 0; act < 4; act++) {
        std::vector<double> ref(n), dref(n);
        for (long long i = 0; i < n; i++) {
            double v = x[i], sg = 1 / (1 + std::exp(-v));
            double y = act == 0 ? (v > 0 ? v : 0) : act == 1 ? (v > 0 ? v : slope * v) : act == 2 ? sg : v * sg;
            double d = act == 0 ? (v > 0 ? 1 : 0) : act == 1 ? (v > 0 ? 1 : slope) : act == 2 ? sg * (1 - sg) : sg * (1 + v * (1 - sg));
            ref[i] = y;
            dref[i] = g[i] * d;
        }
        std::vector<float> out(n), dx(n);
        emu_launch({blocks1d(n)}, {256}, [&] { b2i_activate_f32(x.data(), out.data(), n, act, slope); });
        emu_launch({blocks1d(n)}, {256}, [&] { b2i_activate_backward_f32(x.data(), g.data(), dx.data(), n, act, slope); });
        check(std::string("activate ") + names[act], out, ref, 1e-6);
        check(std::string("activate ") + names[act] + " backward", dx, dref, 1e-6);
    }
}

static void crop(int P, int H, int W, int top, int left, int h, int w) {
    auto x = randn((size_t)P * H * W);
    std::vector<double> ref((size_t)P * h * w, 0);
    for (int p = 0; p < P; p++) for (int r = 0; r < h; r++) for (int q = 0; q < w; q++) {
        int yy = top + r, xx = left + q;
        if (yy >= 0 && yy < H && xx >= 0 && xx < W) ref[((size_t)p * h + r) * w + q] = x[((size_t)p * H + yy) * W + xx];
    }
    long long planes = P;
    std::vector<float> out(ref.size(), NAN);
    emu_launch({blocks1d((long long)out.size())}, {256}, [&] { b2i_crop_f32(x.data(), out.data(), planes, H, W, top, left, h, w); });
    check("crop " + dims({P, H, W}) + " at " + std::to_string(top) + "," + std::to_string(left) + " to " + dims({h, w}), out, ref, 0);
}

static void depthwise(int B, int C, int m, int H, int W, int k, int s, int pad) {
    int Ho = (H + 2 * pad - k) / s + 1, Wo = (W + 2 * pad - k) / s + 1, OC = C * m;
    auto x = randn((size_t)B * C * H * W), w = randn((size_t)OC * k * k);
    std::vector<double> ref((size_t)B * OC * Ho * Wo, 0);
    for (int b = 0; b < B; b++) for (int o = 0; o < OC; o++) for (int r = 0; r < Ho; r++) for (int q = 0; q < Wo; q++) {
        double sum = 0;
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) {
            int yy = r * s - pad + i, xx = q * s - pad + j;
            if (yy >= 0 && yy < H && xx >= 0 && xx < W) sum += (double)w[((size_t)o * k + i) * k + j] * x[(((size_t)b * C + o / m) * H + yy) * W + xx];
        }
        ref[(((size_t)b * OC + o) * Ho + r) * Wo + q] = sum;
    }
    std::vector<float> out(ref.size());
    emu_launch({blocks1d((long long)out.size())}, {256},
               [&] { b2i_depthwise_conv2d_f32(x.data(), w.data(), out.data(), B, C, m, H, W, k, k, s, s, pad, pad, Ho, Wo); });
    check("depthwise conv " + dims({B, C, H, W}) + " x" + std::to_string(m) + " k" + std::to_string(k) + " s" + std::to_string(s) + " p" + std::to_string(pad), out, ref, 1e-6);
}

// Transposed convolution of one image as the backend runs it: per band of input rows, col = Wᵀ·x (a naive GEMM
// here, cuBLAS there), then col2im adds the band into the output; against a direct scatter.
static void convTranspose(int Cin, int Cout, int H, int W, int k, int s, int pad, int outH, int outW, int band) {
    auto x = randn((size_t)Cin * H * W), w = randn((size_t)Cin * Cout * k * k);
    std::vector<double> ref((size_t)Cout * outH * outW, 0);
    for (int c = 0; c < Cin; c++) for (int o = 0; o < Cout; o++) for (int r = 0; r < H; r++) for (int q = 0; q < W; q++)
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) {
            int yy = r * s - pad + i, xx = q * s - pad + j;
            if (yy >= 0 && yy < outH && xx >= 0 && xx < outW)
                ref[((size_t)o * outH + yy) * outW + xx] += (double)w[(((size_t)c * Cout + o) * k + i) * k + j] * x[((size_t)c * H + r) * W + q];
        }
    std::vector<float> out(ref.size(), 0.f);
    int okk = Cout * k * k;
    for (int r0 = 0; r0 < H; r0 += band) {
        int rows = std::min(band, H - r0), n = rows * W;
        std::vector<float> col((size_t)okk * n);
        for (int e = 0; e < okk; e++) for (int t = 0; t < n; t++) {
            double sum = 0;
            for (int c = 0; c < Cin; c++) sum += (double)w[(size_t)c * okk + e] * x[(size_t)c * H * W + (size_t)r0 * W + t];
            col[(size_t)e * n + t] = (float)sum;
        }
        emu_launch({blocks1d((long long)out.size())}, {256},
                   [&] { b2i_col2im_add_f32(col.data(), out.data(), Cout, outH, outW, k, k, s, s, pad, pad, W, r0, rows); });
    }
    check("GEMM + col2im = conv transpose " + dims({Cin, H, W}) + " -> " + dims({Cout, outH, outW}) + " k" + std::to_string(k) + " s" + std::to_string(s) + " p" + std::to_string(pad), out, ref, 1e-6);
}

static void vision() {
    maxpool(3, 13, 11, 3, 2, 1, false, false);
    maxpool(2, 13, 11, 3, 2, 0, true, false);
    maxpool(2, 8, 9, 2, 2, 0, false, true);
    maxpool(2, 7, 7, 3, 1, 1, false, true);
    avgpool(3, 13, 11, 3, 2, 1, false, true);
    avgpool(3, 13, 11, 3, 2, 1, false, false);
    avgpool(2, 10, 9, 3, 2, 1, true, true);
    avgpool(2, 10, 9, 3, 2, 1, true, false);
    avgpool(2, 6, 5, 2, 2, 0, false, true);
    adaptive(3, 13, 11, 6, 6);
    adaptive(2, 5, 7, 7, 3);
    adaptive(2, 9, 9, 1, 1);
    activations();
    crop(3, 10, 12, 1, 2, 7, 8);
    crop(2, 5, 6, -2, -1, 9, 8);
    crop(2, 9, 6, -1, 2, 10, 3);
    depthwise(2, 5, 1, 11, 9, 3, 1, 1);
    depthwise(1, 4, 2, 12, 13, 5, 2, 2);
    depthwise(2, 3, 1, 7, 8, 3, 2, 0);
    convTranspose(3, 4, 5, 6, 3, 1, 1, 5, 6, 2);
    convTranspose(3, 2, 5, 4, 3, 2, 1, 9, 8, 2);
    convTranspose(2, 3, 4, 5, 4, 2, 1, 8, 10, 3);
    convTranspose(2, 3, 7, 5, 3, 2, 0, 15, 11, 7);
}

int main() {
    attention(1, 33, 47, 3, 17, 17, 2);
    attention(2, 19, 23, 2, 12, 20, 0);
    attention(1, 40, 40, 2, 40, 40, 1);
    attention(1, 20, 77, 1, 80, 80, 0);
    attention(1, 9, 9, 1, 160, 160, 0);
    attention(1, 17, 17, 1, 128, 128, 1);
    attention(1, 10, 21, 1, 256, 256, 2);
    attention(1, 5, 7, 1, 512, 512, 1);
    attention(2, 16, 16, 3, 4, 4, 0);
    attention(1, 45, 45, 2, 8, 8, 1);
    attention(1, 33, 35, 2, 64, 64, 0);
    attention(1, 1, 1, 1, 1, 1, 0);
    groupnorm(2, 64, 15, 32, false);
    groupnorm(2, 64, 15, 32, true);
    groupnorm(1, 32, 256, 32, true);
    groupnorm(1, 4, 1000, 2, false);
    layernorm(5, 33);
    layernorm(3, 300);
    layernorm(2, 1);
    softmax(4, 50);
    softmax(2, 700);
    elementwise();
    layout();
    vision();
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
