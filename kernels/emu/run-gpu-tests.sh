#!/usr/bin/env bash
# Runs the @GpuTest suite without a GPU, against kernels/emu's CPU stand-in for libcuda, libcublas and libcusolver
# (built into java/target/fake-cuda): exercises the Java side of the CUDA backend end to end — FFM calls, kernel
# parameter marshalling, allocator, uploads, graph capture — with the SD-sized cases skipped. Takes minutes on
# two cores, so it is not part of ./test.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$root/.ci/find-jdk.sh"
"$root/kernels/emu/build-fake-cuda.sh" "$root/java/target/fake-cuda"
cd "$root"
exec mvn -B -ntp -pl java test -Dptx.skip -Dgroups=gpu -Dsurefire.failIfNoSpecifiedTests=false \
    -Dbrain2img.cuda.libpath="$root/java/target/fake-cuda" "$@"
