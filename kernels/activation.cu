// The image networks' activations and their derivatives, element-wise over n values.
// act: 0 ReLU, 1 LeakyReLU (slope), 2 sigmoid, 3 SiLU — the order of Backend.Act.
#include "common.cuh"

__device__ __forceinline__ float b2i_act(int act, float slope, float x) {
    switch (act) {
        case 0: return x > 0.f ? x : 0.f;
        case 1: return x > 0.f ? x : x * slope;
        case 2: return 1.f / (1.f + expf(-x));
        default: return x / (1.f + expf(-x));
    }
}

__device__ __forceinline__ float b2i_act_derivative(int act, float slope, float x) {
    switch (act) {
        case 0: return x > 0.f ? 1.f : 0.f;
        case 1: return x > 0.f ? 1.f : slope;
        case 2: { float s = 1.f / (1.f + expf(-x)); return s * (1.f - s); }
        default: { float s = 1.f / (1.f + expf(-x)); return s * (1.f + x * (1.f - s)); }
    }
}

extern "C" __global__ void b2i_activate_f32(const float* __restrict__ x, float* __restrict__ y, long long n, int act,
                                            float slope) {
    B2I_GRID_STRIDE(i, n) y[i] = b2i_act(act, slope, x[i]);
}

extern "C" __global__ void b2i_activate_backward_f32(const float* __restrict__ x, const float* __restrict__ g,
                                                     float* __restrict__ dx, long long n, int act, float slope) {
    B2I_GRID_STRIDE(i, n) dx[i] = g[i] * b2i_act_derivative(act, slope, x[i]);
}
