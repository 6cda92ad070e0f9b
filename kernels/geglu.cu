// GEGLU of the transformer feed-forward: x (rows, 2F) = [value | gate] → y (rows, F) = value · gelu(gate),
// exact (erf) GELU as in diffusers. Element-wise over rows·F with a grid-stride loop.
#include "common.cuh"

extern "C" __global__ void b2i_geglu_f32(const float* __restrict__ x, float* __restrict__ y, long long rows, int F) {
    long long n = rows * F;
    B2I_GRID_STRIDE(i, n) {
        long long r = i / F;
        int j = (int)(i - r * F);
        const float* xr = x + r * 2 * F;
        y[i] = xr[j] * b2i_gelu(xr[F + j]);
    }
}
