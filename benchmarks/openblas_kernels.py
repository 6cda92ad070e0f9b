#!/usr/bin/env python3
"""The system OpenBLAS's sgemm speed per kernel family, one thread: what the engine's choice of
OPENBLAS_CORETYPE is about (README, Backends). Runs itself once per family in a fresh process, since OpenBLAS
reads OPENBLAS_CORETYPE when it loads.

    /usr/bin/python3 benchmarks/openblas_kernels.py [Haswell SkylakeX ...]
"""
import ctypes
import os
import subprocess
import sys
import time

import numpy as np

M, K, N = 256, 2304, 3136   # a VGG19 conv3 layer's im2col product at 224²


def measure():
    lib = ctypes.CDLL("libopenblas.so.0")
    lib.openblas_get_corename.restype = ctypes.c_char_p
    a = np.random.rand(M, K).astype(np.float32)
    b = np.random.rand(K, N).astype(np.float32)
    c = np.zeros((M, N), np.float32)
    ptr = lambda x: x.ctypes.data_as(ctypes.c_void_p)  # noqa: E731
    one, zero = ctypes.c_float(1.0), ctypes.c_float(0.0)

    def sgemm():
        lib.cblas_sgemm(101, 111, 111, M, N, K, one, ptr(a), K, ptr(b), N, zero, ptr(c), N)

    for _ in range(3):
        sgemm()
    times = []
    for _ in range(10):
        t0 = time.perf_counter()
        sgemm()
        times.append(time.perf_counter() - t0)
    print(f"{lib.openblas_get_corename().decode():10s} sgemm {M}x{K}x{N}, 1 thread: "
          f"{2 * M * K * N / np.median(times) / 1e9:6.1f} GFLOP/s (median of 10)", flush=True)


if __name__ == "__main__":
    if os.environ.get("OPENBLAS_KERNELS_CHILD"):
        measure()
    else:
        for core in sys.argv[1:] or ["Haswell", "SkylakeX"]:
            env = dict(os.environ, OPENBLAS_CORETYPE=core, OPENBLAS_NUM_THREADS="1", OPENBLAS_KERNELS_CHILD="1")
            subprocess.run([sys.executable, __file__], env=env, check=True)
