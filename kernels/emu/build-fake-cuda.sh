#!/usr/bin/env bash
# Builds kernels/emu/fake_cuda.cpp into DIR/libbrain2img-fake-cuda.so and links it there as libcuda.so.1 and
# libcublas.so.13 and libcusolver.so.12, so that -Dbrain2img.cuda.libpath=DIR runs the CUDA backend on the CPU emulation.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="${1:?usage: build-fake-cuda.sh DIR}"
mkdir -p "$dir"
g++ -std=c++20 -O1 -fPIC -shared -pthread -I"$here/include" -o "$dir/libbrain2img-fake-cuda.so" "$here/fake_cuda.cpp"
ln -sf libbrain2img-fake-cuda.so "$dir/libcuda.so.1"
ln -sf libbrain2img-fake-cuda.so "$dir/libcublas.so.13"
ln -sf libbrain2img-fake-cuda.so "$dir/libcusolver.so.12"
