#!/usr/bin/env bash
# Installs what is missing, configures, builds and runs the whole test suite with ctest.
# Environment: FERRY_BUILD_DIR (default build/), FERRY_BUILD_JOBS, FERRY_CTEST_ARGS (extra ctest arguments).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../mpi_launchers/common.sh"

"$root/scripts/install_deps.sh"
mkdir -p "$build"
start=$(date +%s)
ferry_configure -DFERRY_BUILD_TESTS=ON
cmake --build "$build" -j "$jobs" >"$build.build.log" 2>&1 || {
  grep -E "error|Error" -A5 "$build.build.log" | head -80 >&2
  echo "build failed (log: $build.build.log)" >&2
  exit 1
}
built=$(date +%s)
echo "build: $((built - start)) s" >&2
cd "$build"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
# shellcheck disable=SC2086
ctest --output-on-failure -j "${FERRY_CTEST_JOBS:-2}" ${FERRY_CTEST_ARGS:-}
echo "tests: $(($(date +%s) - built)) s" >&2
