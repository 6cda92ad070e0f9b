#!/usr/bin/env bash
# Throughput of `brain2img spark render` with 1 and then 2 standalone workers on this machine (1 core and 1 fake
# GPU address each, CPU backend with 1 thread per task): the Stable Diffusion path on the tiny random SD weights of
# ../shared/golden/sd-tiny (64 px, 10 DDIM steps, 2 samples), 20 test images = 27 units (9 sets × 3 chunks). Prints units/s from the
# tasks' own start and end times, and checks the two runs wrote identical reconstructions.
# Usage: bash benchmarks/spark-scaling.sh   (after mvn -pl java,spark package)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"
work="$(mktemp -d /tmp/brain2img-spark-bench.XXXXXX)"
trap 'spark_stop 2>/dev/null; rm -rf "$work"' EXIT
source .ci/spark-cluster.sh
weights="$root/../shared/golden/sd-tiny/weights"
[ -d "$weights" ] || { echo "spark-scaling: $weights missing" >&2; exit 1; }

./brain2img data synth --out "$work/data" --images 200 --voxels 300 --image-size 32 --seed 5 > /dev/null
printf '{"targets": "z,c", "weights": "%s", "sd_size": 64, "sd_steps": 10, "samples": 2, "alphas": [10, 1000, 100000]}\n' "$weights" > "$work/run.json"
./brain2img decode --data "$work/data" --out "$work/base" --config "$work/run.json" --device cpu > /dev/null

spark_master
for n in 1 2; do
  spark_worker "$n" 1 1
  mkdir -p "$work/run-$n"
  cp -r "$work/base/." "$work/run-$n/"
  start=$(date +%s.%N)
  ./brain2img spark render --master "$master_url" --out "$work/run-$n" --device cpu \
    --conf spark.executor.cores=1 --conf spark.task.cpus=1 --conf spark.executor.memory=1g \
    --conf spark.executor.resource.gpu.amount=1 --conf spark.task.resource.gpu.amount=1 \
    --conf spark.executor.resource.gpu.discoveryScript="$work/gpus-1.sh" \
    --conf spark.executor.extraJavaOptions=-Dbrain2img.threads=1 > "$work/run-$n.log" 2>&1
  end=$(date +%s.%N)
  awk -F, -v n="$n" -v wall="$(echo "$end - $start" | bc)" 'NR > 1 {
      c++; busy += $7 - $6; if (s == "" || $6 < s) s = $6; if ($7 > e) e = $7 }
    END { printf "spark-scaling: %d worker(s): %d units in %.1f s of tasks (first start to last end) = %.3f units/s; task time %.1f s; whole command %.1f s\n",
          n, c, (e - s) / 1000, c / ((e - s) / 1000), busy / 1000, wall }' "$work/run-$n/logs/spark-tasks.csv"
done
diff -r "$work/run-1/recon" "$work/run-2/recon" > /dev/null && echo "spark-scaling: 1-worker and 2-worker reconstructions are identical"
