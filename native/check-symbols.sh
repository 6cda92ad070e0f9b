#!/usr/bin/env bash
# Checks that every symbol the Java bindings bind is exported by the CUDA libraries found in DIR... (no GPU
# needed): the names are read from brain2img/cuda/{CudaDriver,CuBlas,CuSolver}.java, the exports with nm -D.
# Where a binding lists fallbacks (cuEventElapsedTime_v2, cuEventElapsedTime), one of them suffices.
# Usage: native/check-symbols.sh DIR [DIR...]      (exit 1 if a library or a symbol is missing)
set -uo pipefail
[ $# -gt 0 ] || { echo "usage: $0 DIR [DIR...]" >&2; exit 2; }
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/java/src/main/java/brain2img/cuda"
exec python3 - "$src" "$@" <<'PY'
import glob, os, re, subprocess, sys
src, dirs = sys.argv[1], sys.argv[2:]
status = 0
for java, pattern in [("CudaDriver.java", "libcuda.so.1"), ("CuBlas.java", "libcublas.so.1[123]"),
                      ("CuSolver.java", "libcusolver.so.1[12]")]:
    libs = sorted(p for d in dirs for p in glob.glob(os.path.join(d, pattern)))
    if not libs:
        print(f"{pattern}: not found in {dirs}")
        status = 1
        continue
    lib = libs[-1]
    out = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True, text=True, check=True).stdout
    exports = {line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip()}
    text = open(os.path.join(src, java)).read()
    for call in re.findall(r"bind\((?:FunctionDescriptor|fd).*?\);", text, re.S):
        after = call.split("),", 1)[-1] if "FunctionDescriptor" in call else call
        names = re.findall(r'"(\w+)"', after)
        if not names:
            continue
        hit = next((n for n in names if n in exports), None)
        if hit:
            print(f"ok       {hit:36s} {os.path.basename(lib)}")
        else:
            print(f"MISSING  {' / '.join(names):36s} {lib}")
            status = 1
sys.exit(status)
PY
