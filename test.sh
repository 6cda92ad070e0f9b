#!/usr/bin/env bash
# Runs the whole test suite (CPU tests always; GPU tests tagged "gpu" run only where a GPU is present).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/.ci/find-jdk.sh"
cd "$here"
exec mvn -B -ntp verify "$@"
