// Fused scaled-dot-product attention, flash style: the Lq×Lk score matrix never exists in memory. Each block
// takes QPB queries of one (batch, head) and streams K/V through shared memory in tiles of BK keys, keeping a
// running max m, normaliser l and un-normalised output acc per query (online softmax):
//   per tile: s_j = q·k_j (+mask), m' = max(m, max_j s_j), acc = acc·e^(m−m') + Σ_j e^(s_j−m') v_j, l likewise.
// Layout (heads packed in the feature dimension, as the projections produce it):
//   q (B, Lq, H·Dk), k (B, Lk, H·Dk), v (B, Lk, H·Dv) → out (B, Lq, H·Dv); mask (Lq, Lk) additive or null;
//   causal hides keys j > i. grid = (ceil(Lq/QPB), H, B), block = 128 threads.
// A group of T consecutive lanes owns one query; lane t holds dims d = r·T + t (r < DPT) of q and acc, so a
// head dim up to D = T·DPT fits; dot products are reduced across the group with warp shuffles. fp32 throughout.
#include "common.cuh"

template <int T, int DPT, int BK>
__device__ __forceinline__ void b2i_attention(const float* __restrict__ q, const float* __restrict__ k,
                                              const float* __restrict__ v, const float* __restrict__ mask,
                                              float* __restrict__ out, int Lq, int Lk, int H, int Dk, int Dv,
                                              float scale, int causal) {
    constexpr int D = T * DPT;
    constexpr int THREADS = 128;
    constexpr int QPB = THREADS / T;
    __shared__ float Ks[BK][D];
    __shared__ float Vs[BK][D];

    const int b = blockIdx.z, h = blockIdx.y;
    const int lane = threadIdx.x % T;
    const int qi = blockIdx.x * QPB + threadIdx.x / T;
    const bool active = qi < Lq;
    const int qc = active ? qi : Lq - 1; // inactive threads still take part in loads and shuffles
    const long long kStride = (long long)H * Dk, vStride = (long long)H * Dv;

    float qr[DPT], acc[DPT];
    const float* qrow = q + ((long long)b * Lq + qc) * kStride + (long long)h * Dk;
#pragma unroll
    for (int r = 0; r < DPT; r++) {
        int d = r * T + lane;
        qr[r] = d < Dk ? qrow[d] * scale : 0.f;
        acc[r] = 0.f;
    }
    float m = -INFINITY, l = 0.f;

    // Every thread of the block runs the same number of tiles (the barriers need it); under a causal mask no
    // query of this block sees keys past its last query.
    const int kEnd = causal ? min(Lk, ((int)blockIdx.x + 1) * QPB) : Lk;
    for (int j0 = 0; j0 < kEnd; j0 += BK) {
        const int nk = min(BK, kEnd - j0);
        __syncthreads(); // the previous tile has been consumed
        for (int e = threadIdx.x; e < BK * D; e += THREADS) {
            int jj = e / D, d = e - jj * D;
            float kv = 0.f, vv = 0.f;
            if (jj < nk) {
                long long row = (long long)b * Lk + j0 + jj;
                if (d < Dk) kv = k[row * kStride + (long long)h * Dk + d];
                if (d < Dv) vv = v[row * vStride + (long long)h * Dv + d];
            }
            Ks[jj][d] = kv;
            Vs[jj][d] = vv;
        }
        __syncthreads();

        float s[BK];
        float tileMax = -INFINITY;
#pragma unroll
        for (int jj = 0; jj < BK; jj++) {
            float part = 0.f;
#pragma unroll
            for (int r = 0; r < DPT; r++) part += qr[r] * Ks[jj][r * T + lane];
#pragma unroll
            for (int o = T / 2; o > 0; o >>= 1) part += __shfl_xor_sync(0xffffffffu, part, o);
            const int j = j0 + jj;
            float sc = part;
            if (mask != nullptr && jj < nk) sc += mask[(long long)qc * Lk + j];
            if (jj >= nk || (causal && j > qc)) sc = -INFINITY;
            s[jj] = sc;
            tileMax = fmaxf(tileMax, sc);
        }
        const float mNew = fmaxf(m, tileMax);
        // Selects, not branches: the lanes of a warp must stay converged for the shuffles above.
        const float corr = mNew == -INFINITY ? 1.f : expf(m - mNew);
        float psum = 0.f;
#pragma unroll
        for (int r = 0; r < DPT; r++) acc[r] *= corr;
#pragma unroll
        for (int jj = 0; jj < BK; jj++) {
            const float p = s[jj] == -INFINITY ? 0.f : expf(s[jj] - mNew);
            psum += p;
#pragma unroll
            for (int r = 0; r < DPT; r++) acc[r] += p * Vs[jj][r * T + lane];
        }
        l = l * corr + psum;
        m = mNew;
    }

    if (active) {
        float* orow = out + ((long long)b * Lq + qi) * vStride + (long long)h * Dv;
        const float inv = 1.f / l;
#pragma unroll
        for (int r = 0; r < DPT; r++) {
            int d = r * T + lane;
            if (d < Dv) orow[d] = acc[r] * inv;
        }
    }
}

// One entry point per supported head-dimension bound D = T·DPT (the backend picks the smallest D ≥ max(Dk,Dv)):
// 8 and 32 for tiny test models, 40/80/160 for SD v1's U-Net levels, 64 for CLIP ViT-L, 128/256, and 512 for the
// VAE's single-head mid-block attention.
#define B2I_ATTENTION_ENTRY(NAME, T, DPT, BK)                                                                   \
    extern "C" __global__ void __launch_bounds__(128) NAME(                                                     \
        const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,                  \
        const float* __restrict__ mask, float* __restrict__ out, int Lq, int Lk, int H, int Dk, int Dv,         \
        float scale, int causal) {                                                                              \
        b2i_attention<T, DPT, BK>(q, k, v, mask, out, Lq, Lk, H, Dk, Dv, scale, causal);                        \
    }

B2I_ATTENTION_ENTRY(b2i_attention_f32_d8, 8, 1, 32)
B2I_ATTENTION_ENTRY(b2i_attention_f32_d32, 8, 4, 32)
B2I_ATTENTION_ENTRY(b2i_attention_f32_d40, 8, 5, 32)
B2I_ATTENTION_ENTRY(b2i_attention_f32_d64, 8, 8, 32)
B2I_ATTENTION_ENTRY(b2i_attention_f32_d80, 8, 10, 32)
B2I_ATTENTION_ENTRY(b2i_attention_f32_d128, 16, 8, 16)
B2I_ATTENTION_ENTRY(b2i_attention_f32_d160, 8, 20, 16)
B2I_ATTENTION_ENTRY(b2i_attention_f32_d256, 16, 16, 16)
B2I_ATTENTION_ENTRY(b2i_attention_f32_d512, 32, 16, 8)
