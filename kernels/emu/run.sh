#!/usr/bin/env bash
# Builds the CPU emulation of the kernels (kernels/emu/harness.cpp) with g++ (C++20) and runs it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-${TMPDIR:-/tmp}/brain2img-kernel-emu}"
g++ -std=c++20 -O1 -pthread -I"$here/include" -o "$out" "$here/harness.cpp"
exec "$out"
