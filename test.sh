#!/usr/bin/env bash
# Runs the whole test suite (CPU tests always; GPU tests tagged "gpu" run only where a GPU is present), then
# says how many tests were skipped and why (from Surefire's XML reports); the exit status is Maven's.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/.ci/find-jdk.sh"
cd "$here"
started_ms=$(( $(date +%s) * 1000 - 1000 ))
mvn -B -ntp verify "$@"
status=$?
"$JAVA_HOME/bin/java" "$here/.ci/SkippedTests.java" --newer-than "$started_ms" java/target benchmarks/target \
  || echo "test.sh: could not count the skipped tests" >&2
exit $status
