// A CPU emulation of the little of CUDA the brain2img kernels use, to run them without a GPU: every block of
// the grid runs in turn, its threads as real OS threads, __syncthreads as a barrier, __shared__ as static storage
// (shared by the block's threads; blocks run one at a time), and warp shuffles through a per-thread slot array
// between two barriers (valid because every shuffle in these kernels is reached by all threads of the block).
#pragma once
#include <algorithm>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

using std::max;
using std::min;
using std::isnan;

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};
inline thread_local dim3 threadIdx, blockIdx;
inline dim3 blockDim, gridDim;
inline std::barrier<>* emu_barrier;
inline float* emu_slots;

#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __launch_bounds__(n)
#define __shared__ static

inline void __syncthreads() { emu_barrier->arrive_and_wait(); }

inline int emu_tid() { return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z); }

inline float __shfl_xor_sync(unsigned, float v, int laneMask) {
    int t = emu_tid();
    emu_slots[t] = v;
    emu_barrier->arrive_and_wait();
    float r = emu_slots[(t & ~31) | ((t & 31) ^ laneMask)];
    emu_barrier->arrive_and_wait();
    return r;
}

struct __half {
    _Float16 v;
};
inline float __half2float(__half h) { return (float)h.v; }
inline __half __float2half_rn(float f) { return {(_Float16)f}; }
struct __nv_bfloat16 {
    uint16_t bits;
};
inline float __bfloat162float(__nv_bfloat16 b) {
    uint32_t u = (uint32_t)b.bits << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
inline __nv_bfloat16 __float2bfloat16_rn(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if (std::isnan(f)) return {(uint16_t)((u >> 16) | 0x40)};
    return {(uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16)};
}

// Runs kernel() for every thread of every block of the grid: one OS thread per CUDA thread of a block, reused
// for block after block, with a barrier between blocks (their __shared__ storage is the same static memory).
template <class F>
void emu_launch(dim3 grid, dim3 block, F kernel) {
    gridDim = grid;
    blockDim = block;
    int n = block.x * block.y * block.z;
    std::vector<float> slots(n);
    emu_slots = slots.data();
    std::barrier<> bar(n);
    emu_barrier = &bar;
    std::vector<std::thread> threads;
    threads.reserve(n);
    for (int t = 0; t < n; t++) {
        threads.emplace_back([&, t] {
            threadIdx = {(unsigned)(t % block.x), (unsigned)(t / block.x % block.y), (unsigned)(t / (block.x * block.y))};
            for (unsigned z = 0; z < grid.z; z++)
                for (unsigned y = 0; y < grid.y; y++)
                    for (unsigned x = 0; x < grid.x; x++) {
                        blockIdx = {x, y, z};
                        kernel();
                        bar.arrive_and_wait();
                    }
        });
    }
    for (auto& th : threads) th.join();
}
