// Element-wise ops: activations, broadcasting binary ops, axpby (which is also the DDIM update and the
// classifier-free-guidance mix, see CudaBackend), dtype conversions for half-precision weights, and the row
// gather of token embeddings. All use grid-stride loops over flat indices.
#include "common.cuh"
#include <cuda_fp16.h>
#include <cuda_bf16.h>

// Ordinals of brain2img.backend.Backend.Unary.
#define B2I_SILU 0
#define B2I_GELU 1
#define B2I_QUICK_GELU 2
#define B2I_EXP 3
#define B2I_NEG 4

extern "C" __global__ void b2i_unary_f32(const float* __restrict__ x, float* __restrict__ y, long long n, int op) {
    B2I_GRID_STRIDE(i, n) {
        float v = x[i];
        switch (op) {
            case B2I_SILU: v = b2i_silu(v); break;
            case B2I_GELU: v = b2i_gelu(v); break;
            case B2I_QUICK_GELU: v = v / (1.f + expf(-1.702f * v)); break;
            case B2I_EXP: v = expf(v); break;
            default: v = -v; break;
        }
        y[i] = v;
    }
}

// NumPy broadcasting of b to a's shape, after the host merged adjacent dimensions: the output (= a) has
// shape[0..rank) (row-major), and b's element for output coordinate (i_0..i_rank-1) is at sum_d i_d·bstride[d]
// (bstride 0 along broadcast dimensions).
struct B2iBroadcast {
    long long shape[6];
    long long bstride[6];
    int rank;
};

// Ordinals of brain2img.backend.Backend.Binary.
#define B2I_ADD 0
#define B2I_SUB 1
#define B2I_MUL 2

// y = a op broadcast(b); y may alias a (in-place bias add).
extern "C" __global__ void b2i_binary_f32(const float* a, const float* __restrict__ b, float* y, long long n, int op,
                                          B2iBroadcast bc) {
    B2I_GRID_STRIDE(i, n) {
        long long rem = i, bi = 0;
        for (int d = bc.rank - 1; d >= 0; d--) {
            long long s = bc.shape[d];
            long long q = rem / s;
            bi += (rem - q * s) * bc.bstride[d];
            rem = q;
        }
        float av = a[i], bv = b[bi];
        y[i] = op == B2I_ADD ? av + bv : op == B2I_SUB ? av - bv : av * bv;
    }
}

// out = alpha·x + beta·y; y is not read when beta is 0 (so NaNs there do not propagate, as on the CPU).
extern "C" __global__ void b2i_axpby_f32(const float* __restrict__ x, const float* __restrict__ y, float* __restrict__ out,
                                         long long n, float alpha, float beta) {
    B2I_GRID_STRIDE(i, n) {
        out[i] = beta == 0.f ? alpha * x[i] : alpha * x[i] + beta * y[i];
    }
}

extern "C" __global__ void b2i_f16_to_f32(const __half* __restrict__ x, float* __restrict__ y, long long n) {
    B2I_GRID_STRIDE(i, n) y[i] = __half2float(x[i]);
}

extern "C" __global__ void b2i_bf16_to_f32(const __nv_bfloat16* __restrict__ x, float* __restrict__ y, long long n) {
    B2I_GRID_STRIDE(i, n) y[i] = __bfloat162float(x[i]);
}

extern "C" __global__ void b2i_f32_to_f16(const float* __restrict__ x, __half* __restrict__ y, long long n) {
    B2I_GRID_STRIDE(i, n) y[i] = __float2half_rn(x[i]);
}

extern "C" __global__ void b2i_f32_to_bf16(const float* __restrict__ x, __nv_bfloat16* __restrict__ y, long long n) {
    B2I_GRID_STRIDE(i, n) y[i] = __float2bfloat16_rn(x[i]);
}

// Token embedding: out (n, d) = table[ids[r]] row by row; ids were range-checked on the host.
extern "C" __global__ void b2i_embedding_f32(const float* __restrict__ table, const long long* __restrict__ ids,
                                             float* __restrict__ out, long long n, int d) {
    long long total = n * d;
    B2I_GRID_STRIDE(i, total) {
        long long r = i / d;
        out[i] = table[ids[r] * d + (i - r * d)];
    }
}
