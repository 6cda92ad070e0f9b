#!/usr/bin/env bash
# VGG19 224², batch 1: brain2img's CPU backend and PyTorch's CPU build, alternated ROUNDS times on the same cores so
# that both see the same machine state, then, per side, the median over rounds of the per-round means and of the
# per-round medians (a mean carries that round's collections and scheduler hiccups; a median shows a typical
# pass). Each round is
#   benchmarks/vgg19_torch.py --threads T --warmup 10 --reps R     and     brain2img bench nets --archs vgg19-caffe ...
# Usage: benchmarks/vgg19-side-by-side.sh [ROUNDS=3] [THREADS=2] [REPS=5]
# BRAIN2IMG_JAVA_OPTS passes JVM options through (e.g. -Dbrain2img.blas.coretype=SkylakeX).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-3}" threads="${2:-2}" reps="${3:-5}"
python="${PYTHON:-/usr/bin/python3}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for r in $(seq 1 "$rounds"); do
  echo "round $r/$rounds" >&2
  "$python" "$here/benchmarks/vgg19_torch.py" --threads "$threads" --warmup 10 --reps "$reps" 2>&1 | tee -a "$log"
  BRAIN2IMG_JAVA_OPTS="-Dbrain2img.threads=$threads ${BRAIN2IMG_JAVA_OPTS:-}" \
    "$here/brain2img" bench nets --archs vgg19-caffe --device cpu --warmup 10 --reps "$reps" 2>&1 | tee -a "$log"
done
# per round: "mean ms" and "median ms" of each side and pass; then their medians over the rounds
awk '
  /^torch .* forward:/                          { add("torch", "forward", $0) }
  /^torch .* forward\+input gradient/           { add("torch", "forward+gradient", $0) }
  /^vgg19-caffe .* forward:/                    { add("brain2img", "forward", $0) }
  /^vgg19-caffe .* forward\+input gradient/     { add("brain2img", "forward+gradient", $0) }
  /^backend:/                                   { backend = $0 }
  function add(side, pass, line,   m, k) {
    k = ++n[side, pass]
    match(line, /: *[0-9.]+ ms/); m = substr(line, RSTART, RLENGTH); gsub(/[: ms]/, "", m); mean[side, pass, k] = m + 0
    match(line, /median [0-9.]+ ms/); m = substr(line, RSTART + 7, RLENGTH - 10); med[side, pass, k] = m + 0
  }
  function median(arr, side, pass,   k, i, j, t, a) {
    k = n[side, pass]; if (k == 0) return "n/a"
    for (i = 1; i <= k; i++) a[i] = arr[side, pass, i]
    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
  }
  function row(label, arr, p,   b, t) {
    b = median(arr, "brain2img", p); t = median(arr, "torch", p)
    printf "%-30s %10s %10s %8s\n", p " (" label ")", b, t, (b != "n/a" && t != "n/a" && t > 0) ? sprintf("%.2f", b / t) : "n/a"
  }
  END {
    print ""
    print "over " n["torch", "forward"] " rounds, ms; " backend
    printf "%-30s %10s %10s %8s\n", "pass", "brain2img", "torch", "ratio"
    split("forward forward+gradient", passes, " ")
    for (p = 1; p <= 2; p++) { row("mean", mean, passes[p]); row("median", med, passes[p]) }
  }' "$log"
