#!/usr/bin/env bash
# Builds every kernels/*.cu to PTX for sm_80 and sm_90 (kernels/ptx/NAME.sm_80.ptx, NAME.sm_90.ptx) with nvcc,
# rebuilding only what is older than its source or common.cuh. Run by the Maven build (generate-resources);
# where nvcc is not on the PATH it says so and leaves the committed PTX as it is.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! command -v nvcc >/dev/null 2>&1; then
  echo "kernels: nvcc not on the PATH; packaging the committed PTX in kernels/ptx"
  exit 0
fi
mkdir -p "$here/ptx"
built=0
for cu in "$here"/*.cu; do
  name="$(basename "$cu" .cu)"
  for arch in 80 90; do
    out="$here/ptx/$name.sm_$arch.ptx"
    if [ ! -f "$out" ] || [ "$cu" -nt "$out" ] || [ "$here/common.cuh" -nt "$out" ]; then
      nvcc -ptx -O3 -std=c++17 --gpu-architecture=compute_$arch -o "$out.tmp" "$cu"
      mv "$out.tmp" "$out"
      built=$((built + 1))
    fi
  done
done
echo "kernels: $built PTX file(s) rebuilt with $(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/nvcc \1/p')"
