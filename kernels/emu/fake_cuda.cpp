// A stand-in for libcuda.so.1, libcublas.so.13 and libcusolver.so.12 that runs everything on the CPU: device memory
// is host memory, kernels are the kernels/*.cu sources compiled as C++ and run under emu.h, cuBLAS GEMMs are naive
// loops, syevd is cyclic Jacobi. Built as one shared library and linked under the three names (dlopen of the same
// file gives one instance), it lets the
// @GpuTest suite exercise the whole Java side — FFM calls, kernel parameter marshalling, the allocator, graph
// capture — without a GPU. It checks logic only, never speed. Build: kernels/emu/build-fake-cuda.sh DIR
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

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;
using Job = std::function<void()>;

namespace {
std::mutex mu;                 // one stream, executed in order
std::vector<Job>* capture = nullptr;

void submit(Job j) {
    if (capture) capture->push_back(std::move(j));
    else j();
}

template <class... A, size_t... I>
Job bindArgs(void (*fn)(A...), void** params, std::index_sequence<I...>) {
    auto vals = std::make_tuple(*static_cast<std::remove_cv_t<std::remove_reference_t<A>>*>(params[I])...);
    return [fn, vals] { std::apply(fn, vals); };
}
template <class... A>
Job bindKernel(void (*fn)(A...), void** params) { return bindArgs(fn, params, std::index_sequence_for<A...>{}); }

struct Function { const char* name; std::function<Job(void**)> bind; };
#define K(n) {#n, Function{#n, [](void** p) { return bindKernel(n, p); }}}
std::map<std::string, Function> kernels = {
    K(b2i_groupnorm_f32), K(b2i_layernorm_f32), K(b2i_softmax_f32), K(b2i_geglu_f32), K(b2i_unary_f32),
    K(b2i_binary_f32), K(b2i_axpby_f32), K(b2i_f16_to_f32), K(b2i_bf16_to_f32), K(b2i_f32_to_f16),
    K(b2i_f32_to_bf16), K(b2i_embedding_f32), K(b2i_upsample_nearest2x_f32), K(b2i_upsample_nearest_f32), K(b2i_concat_channels_f32),
    K(b2i_transpose_last2_f32), K(b2i_im2col_f32), K(b2i_attention_f32_d8), K(b2i_attention_f32_d32),
    K(b2i_attention_f32_d40), K(b2i_attention_f32_d64), K(b2i_attention_f32_d80), K(b2i_attention_f32_d128),
    K(b2i_attention_f32_d160), K(b2i_attention_f32_d256), K(b2i_attention_f32_d512), K(b2i_col2im_add_f32),
    K(b2i_depthwise_conv2d_f32), K(b2i_maxpool2d_f32), K(b2i_maxpool2d_backward_f32), K(b2i_avgpool2d_f32),
    K(b2i_avgpool2d_backward_f32), K(b2i_adaptive_avgpool2d_f32), K(b2i_adaptive_avgpool2d_backward_f32),
    K(b2i_activate_f32), K(b2i_activate_backward_f32), K(b2i_crop_f32)};
int dummy;
}  // namespace

extern "C" {
// ------------------------------------------------------------------ driver
CUresult cuInit(unsigned) { return 0; }
CUresult cuDriverGetVersion(int* v) { *v = 13000; return 0; }
CUresult cuDeviceGetCount(int* n) { *n = 1; return 0; }
CUresult cuDeviceGet(int* d, int ordinal) { if (ordinal != 0) return 101; *d = 0; return 0; }
CUresult cuDeviceGetName(char* name, int len, int) { std::snprintf(name, len, "brain2img CPU emulation of a CUDA device"); return 0; }
CUresult cuDeviceGetAttribute(int* v, int attr, int) { *v = attr == 75 ? 9 : attr == 76 ? 0 : attr == 16 ? 1 : 0; return 0; }
CUresult cuDeviceTotalMem_v2(size_t* b, int) { *b = 8ULL << 30; return 0; }
CUresult cuDevicePrimaryCtxRetain(void** ctx, int) { *ctx = &dummy; return 0; }
CUresult cuDevicePrimaryCtxRelease_v2(int) { return 0; }
CUresult cuCtxSetCurrent(void*) { return 0; }
CUresult cuMemGetInfo_v2(size_t* f, size_t* t) { *f = *t = 8ULL << 30; return 0; }
CUresult cuStreamCreate(void** s, unsigned) { *s = &dummy; return 0; }
CUresult cuStreamDestroy_v2(void*) { return 0; }
CUresult cuStreamSynchronize(void*) { return capture ? 900 : 0; } // CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED
CUresult cuEventCreate(void** e, unsigned) { *e = new std::chrono::steady_clock::time_point(); return 0; }
CUresult cuEventRecord(void* e, void*) { *static_cast<std::chrono::steady_clock::time_point*>(e) = std::chrono::steady_clock::now(); return 0; }
CUresult cuEventSynchronize(void*) { return 0; }
CUresult cuEventElapsedTime_v2(float* ms, void* a, void* b) {
    using TP = std::chrono::steady_clock::time_point;
    *ms = std::chrono::duration<float, std::milli>(*static_cast<TP*>(b) - *static_cast<TP*>(a)).count();
    return 0;
}
CUresult cuEventDestroy_v2(void* e) { delete static_cast<std::chrono::steady_clock::time_point*>(e); return 0; }
CUresult cuMemAlloc_v2(CUdeviceptr* p, size_t bytes) {
    if (bytes > (8ULL << 30)) return 2; // CUDA_ERROR_OUT_OF_MEMORY
    void* m = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
    if (!m) return 2;
    std::memset(m, 0xA5, bytes); // garbage, as fresh device memory is
    *p = reinterpret_cast<CUdeviceptr>(m);
    return 0;
}
CUresult cuMemFree_v2(CUdeviceptr p) { std::free(reinterpret_cast<void*>(p)); return 0; }
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr d, const void* s, size_t n, void*) {
    if (capture) return 900;
    std::memcpy(reinterpret_cast<void*>(d), s, n);
    return 0;
}
CUresult cuMemcpyDtoHAsync_v2(void* d, CUdeviceptr s, size_t n, void*) {
    if (capture) return 900;
    std::memcpy(d, reinterpret_cast<void*>(s), n);
    return 0;
}
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr d, CUdeviceptr s, size_t n, void*) {
    submit([=] { std::memmove(reinterpret_cast<void*>(d), reinterpret_cast<void*>(s), n); });
    return 0;
}
CUresult cuMemsetD8Async(CUdeviceptr d, unsigned char v, size_t n, void*) {
    submit([=] { std::memset(reinterpret_cast<void*>(d), v, n); });
    return 0;
}
CUresult cuModuleLoadDataEx(void** m, const void* image, unsigned n, int* opts, void** vals) {
    if (std::strstr(static_cast<const char*>(image), ".version") == nullptr) {
        for (unsigned i = 0; i < n; i++)
            if (opts[i] == 5) std::snprintf(static_cast<char*>(vals[i]), 64, "emulator: not PTX");
        return 200; // CUDA_ERROR_INVALID_IMAGE
    }
    *m = &dummy;
    return 0;
}
CUresult cuModuleUnload(void*) { return 0; }
CUresult cuModuleGetFunction(void** f, void*, const char* name) {
    auto it = kernels.find(name);
    if (it == kernels.end()) return 500; // CUDA_ERROR_NOT_FOUND
    *f = &it->second;
    return 0;
}
CUresult cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned, void*, void** params, void**) {
    if (gx == 0 || gy == 0 || gz == 0 || bx * by * bz == 0 || bx * by * bz > 1024) return 1; // CUDA_ERROR_INVALID_VALUE
    Job body = static_cast<Function*>(f)->bind(params);
    submit([=] { emu_launch({gx, gy, gz}, {bx, by, bz}, body); });
    return 0;
}
CUresult cuStreamBeginCapture_v2(void*, int) {
    if (capture) return 401; // CUDA_ERROR_ILLEGAL_STATE
    capture = new std::vector<Job>();
    return 0;
}
CUresult cuStreamEndCapture(void*, void** graph) {
    if (!capture) return 401;
    *graph = capture;
    capture = nullptr;
    return 0;
}
CUresult cuGraphInstantiateWithFlags(void** exec, void* graph, unsigned long long) {
    *exec = new std::vector<Job>(*static_cast<std::vector<Job>*>(graph));
    return 0;
}
CUresult cuGraphLaunch(void* exec, void*) {
    for (auto& j : *static_cast<std::vector<Job>*>(exec)) j();
    return 0;
}
CUresult cuGraphDestroy(void* g) { delete static_cast<std::vector<Job>*>(g); return 0; }
CUresult cuGraphExecDestroy(void* g) { delete static_cast<std::vector<Job>*>(g); return 0; }

// ------------------------------------------------------------------ cuBLAS
int cublasCreate_v2(void** h) { *h = &dummy; return 0; }
int cublasDestroy_v2(void*) { return 0; }
int cublasSetStream_v2(void*, void*) { return 0; }
int cublasSetWorkspace_v2(void*, void*, size_t) { return 0; }
int cublasGetVersion_v2(void*, int* v) { *v = 130000; return 0; }

static double load(const void* p, int type, long long i) {
    switch (type) {
        case 0: return static_cast<const float*>(p)[i];
        case 2: return (double)static_cast<const _Float16*>(p)[i];
        case 14: return __bfloat162float(static_cast<const __nv_bfloat16*>(p)[i]);
        default: return NAN;
    }
}

int cublasGemmStridedBatchedEx(void*, int opA, int opB, int m, int n, int k, const void* alpha, const void* A, int aType,
                               int lda, long long sA, const void* B, int bType, int ldb, long long sB, const void* beta,
                               void* C, int cType, int ldc, long long sC, int batch, int compute, int) {
    if (cType != 0 || (aType != bType) || (aType != 0 && aType != 2 && aType != 14)) return 15; // NOT_SUPPORTED
    if (compute != 68 && compute != 69 && compute != 74 && compute != 75 && compute != 77) return 7;
    if ((opA ? lda < k : lda < m) || (opB ? ldb < n : ldb < k) || ldc < m) return 7; // INVALID_VALUE
    float al = *static_cast<const float*>(alpha), be = *static_cast<const float*>(beta);
    submit([=] {
        for (int b = 0; b < batch; b++) {
            float* c = static_cast<float*>(C) + b * sC;
            for (int j = 0; j < n; j++)
                for (int i = 0; i < m; i++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        double av = load(A, aType, b * sA + (opA ? (long long)i * lda + p : (long long)p * lda + i));
                        double bv = load(B, bType, b * sB + (opB ? (long long)p * ldb + j : (long long)j * ldb + p));
                        s += av * bv;
                    }
                    float& out = c[(long long)j * ldc + i];
                    out = (float)(al * s + (be == 0.f ? 0.0 : (double)be * out));
                }
        }
    });
    return 0;
}

// ------------------------------------------------------------------ cuSOLVER (cyclic Jacobi, in double)
int cusolverDnCreate(void** h) { *h = &dummy; return 0; }
int cusolverDnDestroy(void*) { return 0; }
int cusolverDnSetStream(void*, void*) { return 0; }
int cusolverDnSsyevd_bufferSize(void*, int, int, int, const float*, int, const float*, int* lwork) { *lwork = 1; return 0; }
int cusolverDnDsyevd_bufferSize(void*, int, int, int, const double*, int, const double*, int* lwork) { *lwork = 1; return 0; }

}  // extern "C"

// Symmetric eigendecomposition of the column-major n×n matrix a (lower triangle read): ascending eigenvalues
// into w, eigenvectors (columns) into a.
template <class T>
static void jacobi(int n, T* a, int lda, T* w) {
    std::vector<double> m((size_t)n * n), v((size_t)n * n, 0);
    for (int j = 0; j < n; j++)
        for (int i = 0; i < n; i++) m[(size_t)j * n + i] = i >= j ? a[(size_t)j * lda + i] : a[(size_t)i * lda + j];
    for (int i = 0; i < n; i++) v[(size_t)i * n + i] = 1;
    auto M = [&](int i, int j) -> double& { return m[(size_t)j * n + i]; };
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0;
        for (int j = 0; j < n; j++) for (int i = 0; i < n; i++) if (i != j) off += M(i, j) * M(i, j);
        if (off < 1e-30) break;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                if (std::abs(M(p, q)) < 1e-300) continue;
                double theta = (M(q, q) - M(p, p)) / (2 * M(p, q));
                double t = (theta >= 0 ? 1 : -1) / (std::abs(theta) + std::sqrt(theta * theta + 1));
                double c = 1 / std::sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < n; k++) { // columns p, q
                    double mkp = M(k, p), mkq = M(k, q);
                    M(k, p) = c * mkp - s * mkq;
                    M(k, q) = s * mkp + c * mkq;
                }
                for (int k = 0; k < n; k++) { // rows p, q
                    double mpk = M(p, k), mqk = M(q, k);
                    M(p, k) = c * mpk - s * mqk;
                    M(q, k) = s * mpk + c * mqk;
                }
                for (int k = 0; k < n; k++) {
                    double vkp = v[(size_t)p * n + k], vkq = v[(size_t)q * n + k];
                    v[(size_t)p * n + k] = c * vkp - s * vkq;
                    v[(size_t)q * n + k] = s * vkp + c * vkq;
                }
            }
    }
    std::vector<int> order(n);
    for (int i = 0; i < n; i++) order[i] = i;
    std::sort(order.begin(), order.end(), [&](int x, int y) { return M(x, x) < M(y, y); });
    for (int j = 0; j < n; j++) {
        w[j] = (T)M(order[j], order[j]);
        for (int i = 0; i < n; i++) a[(size_t)j * lda + i] = (T)v[(size_t)order[j] * n + i];
    }
}

extern "C" {
int cusolverDnSsyevd(void*, int jobz, int uplo, int n, float* a, int lda, float* w, float*, int, int* info) {
    if (jobz != 1 || uplo != 0) return 9; // only what the backend uses: vectors, lower
    submit([=] { jacobi(n, a, lda, w); *info = 0; });
    return 0;
}
int cusolverDnDsyevd(void*, int jobz, int uplo, int n, double* a, int lda, double* w, double*, int, int* info) {
    if (jobz != 1 || uplo != 0) return 9;
    submit([=] { jacobi(n, a, lda, w); *info = 0; });
    return 0;
}
}
