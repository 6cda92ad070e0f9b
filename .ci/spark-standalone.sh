#!/usr/bin/env bash
# A real Spark standalone cluster on 127.0.0.1, from the Maven build's jars (no Spark download): one master, one
# worker announcing 2 fake GPUs through a discovery script; submits `brain2img spark render` of a small synthetic
# data set, asserts that no two concurrently running tasks held the same GPU address, and that the outputs equal
# a local-mode run; stops both daemons by PID. Needs the spark module built (./test.sh or mvn package).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"
source .ci/find-jdk.sh
cp_file=spark/target/classpath.txt flags_file=spark/target/classes/brain2img/spark/jvm-flags.txt
for f in spark/target/brain2img-spark.jar "$cp_file" "$flags_file"; do
  [ -f "$f" ] || { echo "spark-standalone: $f missing; build first (./test.sh or mvn -pl java,spark package)" >&2; exit 1; }
done
work="$(mktemp -d /tmp/brain2img-spark-ci.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
export SPARK_LOCAL_IP=127.0.0.1

# SPARK_HOME/jars: the worker builds each executor's classpath from it (links to the Maven repository's jars)
export SPARK_HOME="$work/spark-home" SPARK_SCALA_VERSION=2.13
mkdir -p "$SPARK_HOME/jars"
tr ":" "\n" < "$cp_file" | while read -r j || [ -n "$j" ]; do ln -s "$j" "$SPARK_HOME/jars/"; done
# shellcheck disable=SC2207
flags=($(cat "$flags_file"))

free_port() { # a port nobody listens on (bash's /dev/tcp connect fails)
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "spark-standalone: no free port found" >&2; exit 1
}
wait_for_port() { # port, seconds, name
  for _ in $(seq "$2"); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return; fi
    sleep 1
  done
  echo "spark-standalone: $3 did not listen on $1 within $2 s; its log:" >&2; tail -30 "$work/$3.log" >&2; exit 1
}

printf '#!/usr/bin/env bash\necho '"'"'{"name": "gpu", "addresses": ["0", "1"]}'"'"'\n' > "$work/gpus.sh"
chmod +x "$work/gpus.sh"
mport=$(free_port) mui=$(free_port) wui=$(free_port)
"$JAVA_HOME/bin/java" "${flags[@]}" -Xmx256m -cp "$SPARK_HOME/jars/*" org.apache.spark.deploy.master.Master \
  --host 127.0.0.1 --port "$mport" --webui-port "$mui" > "$work/master.log" 2>&1 &
pids+=($!)
wait_for_port "$mport" 60 master
"$JAVA_HOME/bin/java" "${flags[@]}" -Xmx256m -cp "$SPARK_HOME/jars/*" \
  -Dspark.worker.resource.gpu.amount=2 -Dspark.worker.resource.gpu.discoveryScript="$work/gpus.sh" \
  org.apache.spark.deploy.worker.Worker "spark://127.0.0.1:$mport" --host 127.0.0.1 --cores 2 --memory 3g \
  --webui-port "$wui" --work-dir "$work/worker" > "$work/worker.log" 2>&1 &
pids+=($!)
for _ in $(seq 60); do grep -q "Successfully registered with master" "$work/worker.log" && break; sleep 1; done
grep -q "Successfully registered with master" "$work/worker.log" || { echo "spark-standalone: worker did not register" >&2; tail -30 "$work/worker.log" >&2; exit 1; }

./brain2img data synth --out "$work/data" --images 200 --voxels 200 --image-size 16 --seed 5 > /dev/null
echo '{"alphas": [10, 1000, 100000]}' > "$work/run.json"
gpu_conf=(--conf spark.executor.cores=2 --conf spark.executor.memory=1g --conf spark.task.cpus=1
          --conf spark.executor.resource.gpu.amount=2 --conf spark.task.resource.gpu.amount=1
          --conf spark.executor.resource.gpu.discoveryScript="$work/gpus.sh")
timeout 150 ./brain2img spark render --master "spark://127.0.0.1:$mport" --data "$work/data" --out "$work/cluster" \
  --config "$work/run.json" --device cpu "${gpu_conf[@]}"
# local mode from the same decoded targets (features, fit, decode are the driver's, not what is compared)
mkdir -p "$work/local"
cp -r "$work/cluster/features" "$work/cluster/models" "$work/cluster/decoded" "$work/cluster/stamps" "$work/cluster/run.json" "$work/local/"
rm -f "$work/local/stamps/render.json"
timeout 90 ./brain2img spark render --master 'local[2]' --out "$work/local" --device cpu

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
