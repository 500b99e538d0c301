#!/usr/bin/env bash
# Ferry's benchmark suite: builds Ferry in Release (or reuses a build) and runs every benchmark of
# perf/README.md, each against a baseline measured in the same run.
#
#   perf/run.sh                      full run (at most ~15 minutes on 2 cores), build in ./build-perf
#   perf/run.sh --quick              small datasets and few iterations (2-4 minutes on 2 cores)
#   perf/run.sh --build-dir DIR      reuse an existing optimized build (Release or RelWithDebInfo)
#   perf/run.sh --out DIR            output folder (default perf/out/YYYY-MM-DD-HHMMSS)
#   perf/run.sh --only hit,epoch     a subset: hit, epoch, naive, cpu, sharing, service, scaling, rebalance,
#                                    readahead
#   perf/run.sh --keep-data          keep the generated datasets under OUT/data
#
# Writes OUT/results.csv, OUT/results.json, OUT/summary.md, OUT/*.png and OUT/raw/ (every program's output).
# Exit status: 0 when the suite ran and wrote its summary table (goals are reported, not asserted), 1 when it
# could not, 2 on a usage error.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=
out=
quick=()
extra=()
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
  case $1 in
    --quick) quick=(--quick); shift ;;
    --build-dir) [[ $# -ge 2 ]] || usage; build_dir=$2; shift 2 ;;
    --out) [[ $# -ge 2 ]] || usage; out=$2; shift 2 ;;
    --only) [[ $# -ge 2 ]] || usage; extra+=(--only "$2"); shift 2 ;;
    --keep-data) extra+=(--keep-data); shift ;;
    -h|--help) usage ;;
    *) echo "perf/run.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
out=${out:-$root/perf/out/$(date +%Y-%m-%d-%H%M%S)}
python=/usr/bin/python3   # Debian's torch, h5py, numpy, matplotlib belong to this interpreter
[[ -x $python ]] || { echo "perf/run.sh: $python not found" >&2; exit 1; }
command -v ucx_perftest >/dev/null || echo "perf/run.sh: ucx_perftest not found (apt-get install ucx-utils): its baseline will read n/a" >&2

if [[ -z $build_dir ]]; then
  build_dir=$root/build-perf
  echo "perf/run.sh: building Ferry (Release) in $build_dir" >&2
  cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DFERRY_BUILD_TESTS=OFF -DFERRY_BUILD_EXAMPLES=OFF \
        -DFERRY_BUILD_PERF=ON >"$build_dir.configure.log" 2>&1 || { cat "$build_dir.configure.log" >&2; exit 1; }
  cmake --build "$build_dir" -j "$(nproc)" --target ferry_bench ferry_cli ferry-gen ferry-import \
        >"$build_dir.build.log" 2>&1 || { tail -40 "$build_dir.build.log" >&2; exit 1; }
else
  build_dir=$(cd "$build_dir" && pwd)
  # An existing build may predate ferry_bench: build just the programs the suite runs (no-op when current).
  cmake --build "$build_dir" -j "$(nproc)" --target ferry_bench ferry_cli ferry-gen ferry-import >/dev/null 2>&1 || {
    echo "perf/run.sh: cannot build the suite's programs in $build_dir" >&2; exit 1; }
fi
type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)
[[ $type == Release || $type == RelWithDebInfo ]] || echo "perf/run.sh: warning: $build_dir is a '$type' build; figures will be slow" >&2

# mpirun as root needs these; oversubscription is expected (up to 16 ranks on 2 cores).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export FERRY_LOG_LEVEL=${FERRY_LOG_LEVEL:-warn}
mkdir -p "$out"
"$python" "$root/perf/suite.py" --build-dir "$build_dir" --out "$out" "${quick[@]}" "${extra[@]}"
[[ -s $out/summary.md ]] || { echo "perf/run.sh: no summary table written" >&2; exit 1; }
echo "perf/run.sh: summary: $out/summary.md" >&2
