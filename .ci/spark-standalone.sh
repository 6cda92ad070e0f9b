#!/usr/bin/env bash
# A real Spark standalone cluster on 127.0.0.1, from the Maven build's jars (no Spark download): one master, one
# worker announcing 2 fake GPUs through a discovery script; submits `brain2img spark render` of a small synthetic
# data set, asserts that no two concurrently running tasks held the same GPU address, and that the outputs equal
# a local-mode run; stops both daemons by PID. Needs the spark module built (./test.sh or mvn package).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
work="$(mktemp -d /tmp/brain2img-spark-ci.XXXXXX)"
trap 'spark_stop 2>/dev/null; rm -rf "$work"' EXIT
source .ci/spark-cluster.sh
spark_master
spark_worker 1 2 2

./brain2img data synth --out "$work/data" --images 200 --voxels 200 --image-size 16 --seed 5 > /dev/null
echo '{"alphas": [10, 1000, 100000]}' > "$work/run.json"
gpu_conf=(--conf spark.executor.cores=2 --conf spark.executor.memory=1g --conf spark.task.cpus=1
          --conf spark.executor.resource.gpu.amount=2 --conf spark.task.resource.gpu.amount=1
          --conf spark.executor.resource.gpu.discoveryScript="$work/gpus-1.sh")
timeout 180 ./brain2img spark render --master "$master_url" --data "$work/data" --out "$work/cluster" \
  --config "$work/run.json" --device cpu "${gpu_conf[@]}"
# local mode from the same decoded targets (features, fit, decode are the driver's, not what is compared)
mkdir -p "$work/local"
cp -r "$work/cluster/features" "$work/cluster/models" "$work/cluster/decoded" "$work/cluster/stamps" "$work/cluster/run.json" "$work/local/"
rm -f "$work/local/stamps/render.json"
timeout 120 ./brain2img spark render --master 'local[2]' --out "$work/local" --device cpu

tasks="$work/cluster/logs/spark-tasks.csv"
# every task held one of the two addresses; no two tasks with the same address overlapped in time
awk -F, 'NR > 1 {
  if ($4 != "0" && $4 != "1") { print "spark-standalone: task " $1 " held GPU address \"" $4 "\"" > "/dev/stderr"; bad = 1 }
  n++; gpu[n] = $4; s[n] = $6; e[n] = $7; u[n] = $1
}
END {
  for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) {
    if (s[i] < e[j] && s[j] < e[i]) { both++; if (gpu[i] == gpu[j]) { print "spark-standalone: " u[i] " and " u[j] " ran at once on GPU " gpu[i] > "/dev/stderr"; bad = 1 } }
  }
  if (n == 0) { print "spark-standalone: no tasks ran" > "/dev/stderr"; bad = 1 }
  printf "spark-standalone: %d tasks, %d pairs ran concurrently, none on the same GPU address\n", n, both
  exit bad
}' "$tasks"
diff -r "$work/cluster/recon" "$work/local/recon" > /dev/null || { echo "spark-standalone: the cluster's reconstructions differ from local mode's" >&2; exit 1; }
echo "spark-standalone: the cluster's $(find "$work/cluster/recon" -type f | wc -l) reconstruction files equal local mode's"
