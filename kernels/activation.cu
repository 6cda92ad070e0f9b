// The image networks' activations and their input gradients (ordinals of brain2img.backend.Backend.Act); slope is
// LeakyReLU's negative slope. ReLU's derivative at 0 is 0, as torch's threshold_backward.
#include "common.cuh"

#define B2I_ACT_RELU 0
#define B2I_ACT_LEAKY_RELU 1
#define B2I_ACT_SIGMOID 2
#define B2I_ACT_SILU 3

extern "C" __global__ void b2i_activate_f32(const float* __restrict__ x, float* __restrict__ y, long long n, int act,
                                            float slope) {
    B2I_GRID_STRIDE(i, n) {
        float v = x[i];
        switch (act) {
            case B2I_ACT_RELU: v = v > 0.f ? v : 0.f; break;
            case B2I_ACT_LEAKY_RELU: v = v > 0.f ? v : v * slope; break;
            case B2I_ACT_SIGMOID: v = 1.f / (1.f + expf(-v)); break;
            default: v = b2i_silu(v); break;
        }
        y[i] = v;
    }
}

extern "C" __global__ void b2i_activate_backward_f32(const float* __restrict__ x, const float* __restrict__ g,
                                                     float* __restrict__ dx, long long n, int act, float slope) {
    B2I_GRID_STRIDE(i, n) {
        float v = x[i], d;
        switch (act) {
            case B2I_ACT_RELU: d = v > 0.f ? 1.f : 0.f; break;
            case B2I_ACT_LEAKY_RELU: d = v > 0.f ? 1.f : slope; break;
            case B2I_ACT_SIGMOID: { float s = 1.f / (1.f + expf(-v)); d = s * (1.f - s); break; }
            default: { float s = 1.f / (1.f + expf(-v)); d = s * (1.f + v * (1.f - s)); break; }
        }
        dx[i] = g[i] * d;
    }
}
