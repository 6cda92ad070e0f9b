# Sourced by .ci/spark-standalone.sh and benchmarks/spark-scaling.sh: a Spark standalone cluster on 127.0.0.1 from
# the Maven build's jars (no Spark download). Needs $work (a scratch folder) and the spark module built; daemons'
# PIDs go to the array spark_pids, which spark_stop kills (call it from an EXIT trap).
source .ci/find-jdk.sh
cp_file=spark/target/classpath.txt flags_file=spark/target/classes/brain2img/spark/jvm-flags.txt
for f in spark/target/brain2img-spark.jar "$cp_file" "$flags_file"; do
  [ -f "$f" ] || { echo "spark-cluster: $f missing; build first (./test.sh or mvn -pl java,spark package)" >&2; exit 1; }
done
export SPARK_LOCAL_IP=127.0.0.1
# SPARK_HOME/jars: the worker builds each executor's classpath from it (links to the Maven repository's jars)
export SPARK_HOME="$work/spark-home" SPARK_SCALA_VERSION=2.13
mkdir -p "$SPARK_HOME/jars"
tr ":" "\n" < "$cp_file" | while read -r j || [ -n "$j" ]; do ln -sf "$j" "$SPARK_HOME/jars/"; done
# shellcheck disable=SC2207
spark_flags=($(cat "$flags_file"))
spark_pids=()

spark_stop() {
  for p in "${spark_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${spark_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  spark_pids=()
}

free_port() { # a port nobody listens on (bash's /dev/tcp connect fails)
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "spark-cluster: no free port found" >&2; exit 1
}

# spark_master: starts a master; sets master_url
spark_master() {
  local port ui
  port=$(free_port) ui=$(free_port)
  "$JAVA_HOME/bin/java" "${spark_flags[@]}" -Xmx256m -cp "$SPARK_HOME/jars/*" org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port "$port" --webui-port "$ui" > "$work/master.log" 2>&1 &
  spark_pids+=($!)
  for _ in $(seq 60); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then master_url="spark://127.0.0.1:$port"; return; fi
    sleep 1
  done
  echo "spark-cluster: the master did not listen on $port within 60 s:" >&2; tail -30 "$work/master.log" >&2; exit 1
}

# spark_worker NAME CORES GPUS: a worker announcing GPUS fake GPU addresses (0..GPUS-1) through a discovery script
spark_worker() {
  local name=$1 cores=$2 gpus=$3 addrs
  addrs=$(seq -s '", "' 0 $(($3 - 1)))
  printf '#!/usr/bin/env bash\necho '"'"'{"name": "gpu", "addresses": ["%s"]}'"'"'\n' "$addrs" > "$work/gpus-$name.sh"
  chmod +x "$work/gpus-$name.sh"
  "$JAVA_HOME/bin/java" "${spark_flags[@]}" -Xmx256m -cp "$SPARK_HOME/jars/*" \
    -Dspark.worker.resource.gpu.amount="$gpus" -Dspark.worker.resource.gpu.discoveryScript="$work/gpus-$name.sh" \
    org.apache.spark.deploy.worker.Worker "$master_url" --host 127.0.0.1 --cores "$cores" --memory 3g \
    --webui-port "$(free_port)" --work-dir "$work/worker-$name" > "$work/worker-$name.log" 2>&1 &
  spark_pids+=($!)
  for _ in $(seq 60); do grep -qs "Successfully registered with master" "$work/worker-$name.log" && return; sleep 1; done
  echo "spark-cluster: worker $name did not register" >&2; tail -30 "$work/worker-$name.log" >&2; exit 1
}
