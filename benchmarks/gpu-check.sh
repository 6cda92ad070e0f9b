#!/usr/bin/env bash
# One-shot GPU validation of the CUDA backend, in two halves:
#
#   benchmarks/gpu-check.sh prepare   here, on a machine without a GPU (needs JDK 25 + Maven): builds the jar and
#                                     the test classes, fetches the JUnit console launcher, links a small Java
#                                     runtime, all into .gpu/ (git-ignored, ~55 MB)
#   benchmarks/gpu-check.sh run       on the GPU machine (needs nothing installed but the NVIDIA driver and the
#                                     CUDA libraries, e.g. PyTorch's nvidia-* wheels): runs every @GpuTest and the
#                                     kernel benchmark from .gpu/, printing a compact summary
#
# With the device tool: first `benchmarks/gpu-check.sh prepare` here, then run
#   command: bash benchmarks/gpu-check.sh run      carry: [".gpu"]      timeout_s: 540
# The tests take ~2-4 minutes on an H100/H200 (most of it the CPU references), the benchmark under one.
# Logs go to $OUT (when set) or .gpu/logs: tests.txt (JUnit tree), junit/ (XML reports), bench.txt.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bundle="$here/.gpu"
junit_version=1.11.4

prepare() {
  set -e
  source "$here/.ci/find-jdk.sh"
  cd "$here"
  echo "gpu-check: building the jar and the test classes"
  mvn -B -q -ntp -pl java -am package -DskipTests
  mvn -B -q -ntp -pl java test-compile
  rm -rf "$bundle"
  mkdir -p "$bundle"
  cp java/target/brain2img.jar "$bundle/"
  (cd java/target/test-classes && "$JAVA_HOME/bin/jar" cf "$bundle/brain2img-tests.jar" .)
  echo "gpu-check: fetching the JUnit console launcher $junit_version"
  mvn -B -q -ntp dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:$junit_version \
      -DoutputDirectory="$bundle" -Dmdep.stripVersion=true
  echo "gpu-check: linking a Java runtime"
  # No java.desktop (image I/O) and a stripped libjvm: the whole tree must travel in 64 MiB.
  "$JAVA_HOME/bin/jlink" --add-modules java.base,java.logging,java.management,java.xml,jdk.incubator.vector,jdk.unsupported,jdk.zipfs \
      --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output "$bundle/jre"
  if command -v strip >/dev/null; then strip --strip-unneeded "$bundle/jre/lib/server/libjvm.so"; fi
  du -sh "$bundle" | sed 's/^/gpu-check: bundle /'
}

run() {
  cd "$here"
  local java="$bundle/jre/bin/java"
  if [ ! -x "$java" ]; then
    echo "gpu-check: $bundle/jre is missing; run 'benchmarks/gpu-check.sh prepare' on the build machine and carry .gpu" >&2
    exit 2
  fi
  local logs="${OUT:-$bundle/logs}"
  mkdir -p "$logs"
  # The CUDA libraries: the system's, the toolkit's, or Python wheels (nvidia/*/lib, nvidia/cu13/lib).
  local libdirs
  # The driver's libcuda.so.1 too where it is off the loader's path (never a toolkit stub: CUDA_ERROR_STUB_LIBRARY).
  libdirs="$(find /usr/local /usr/lib /usr/lib64 /opt \( -name 'libcublas.so.1[23]' -o -name 'libcusolver.so.1[12]' \
      -o -name 'libcublasLt.so.1[23]' -o -name 'libnvJitLink.so.1[23]' -o -name 'libcusparse.so.1[23]' -o -name 'libcuda.so.1' \) \
      -not -path '*/stubs/*' -printf '%h\n' 2>/dev/null | sort -u | paste -sd: -)"
  export LD_LIBRARY_PATH="${libdirs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  local jopts=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx24g
               -Dbrain2img.cuda.libpath="$libdirs" -Dbrain2img.shared="$here/../shared")
  echo "== gpu-check $(date -u +%FT%TZ)"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | sed 's/^/== gpu: /'
  echo "== CUDA libraries: ${libdirs:-none found}"
  "$java" "${jopts[@]}" -cp "$bundle/brain2img.jar" brain2img.cli.Main --version | head -1
  if [ -n "$libdirs" ]; then
    local drv
    drv="$(ldconfig -p 2>/dev/null | sed -n 's/.*libcuda\.so\.1 .*=> \(.*\)/\1/p' | head -1)"
    bash "$here/native/check-symbols.sh" ${drv:+"$(dirname "$drv")"} /usr/local/nvidia/lib64 ${libdirs//:/ } 2>&1 \
        | grep -v '^ok' | sed 's/^/== symbols: /'
    echo "== symbols checked (exit ${PIPESTATUS[0]}; only problems are listed)"
  fi

  echo "== @GpuTest tests"
  local t0=$SECONDS
  timeout 420 "$java" "${jopts[@]}" -jar "$bundle/junit-platform-console-standalone.jar" execute \
      --class-path "$bundle/brain2img-tests.jar:$bundle/brain2img.jar" --scan-class-path "$bundle/brain2img-tests.jar" \
      --include-tag gpu --disable-banner --disable-ansi-colors --details=tree --reports-dir "$logs/junit" >"$logs/tests.txt" 2>&1
  local rc=$?
  grep -E '\[gpu\]' "$logs/tests.txt" | sed 's/^ *//' | head -20
  grep -E '↷' "$logs/tests.txt" | sed 's/^[│├└─ ]*/SKIPPED /' | sort -u | head -10
  grep -A2 -E '✘' "$logs/tests.txt" | sed 's/^[│├└─ ]*//' | head -60
  grep -E 'tests (successful|failed|skipped|aborted)|containers (failed|skipped)' "$logs/tests.txt"
  echo "== tests exit $rc in $((SECONDS - t0)) s (full tree: tests.txt)"
  if ! grep -qE '\[ +[1-9][0-9]* tests successful' "$logs/tests.txt"; then
    echo "== NO GPU TEST PASSED: see the SKIPPED reason above"
    [ $rc -eq 0 ] && rc=3
  fi

  echo "== kernel benchmark"
  if "$java" "${jopts[@]}" -jar "$bundle/brain2img.jar" cuda --help 2>&1 | grep -q ' bench '; then
    "$java" "${jopts[@]}" -jar "$bundle/brain2img.jar" cuda info 2>&1 | grep -v '^WARNING: Using incubator'
    timeout 150 "$java" "${jopts[@]}" -jar "$bundle/brain2img.jar" cuda bench 2>&1 | grep -v '^WARNING: Using incubator' | tee "$logs/bench.txt"
  else
    echo "(no 'cuda bench' command in this build)"
  fi
  if command -v python3 >/dev/null && python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
    echo "== PyTorch at the same shapes"
    timeout 90 python3 "$here/benchmarks/torch_kernels.py" 20 2>&1 | tee "$logs/torch.txt"
  fi
  exit $rc
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  *) echo "usage: benchmarks/gpu-check.sh prepare|run" >&2; exit 2 ;;
esac
