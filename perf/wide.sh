#!/usr/bin/env bash
# perf/wide.sh: wide runs of the multi-rank system on one machine (issue 16). For each width (default 4 8 16
# 32 64 ranks, oversubscribed) one checked run of tests/tools/wide_run.sh (two pipelines, two randomizers
# from 8 ranks on, 4 pretend nodes with one cache server and a stats leader each from 16 ranks on, digests
# and IDs equal to `ferry local`, exactly once), then perf/wide.py turns the stats files into per-rank
# figures against the width: messages and bytes sent and received, CPU seconds against wall seconds (a rank
# that spins instead of blocking shows CPU near its wall time), idle CPU of the service ranks, RSS, and what
# the coordinator received of the monitoring gather. Writes summary.md and results.json.
#
#   perf/wide.sh [--build-dir DIR] [--out DIR] [--ranks "4 8 16 32 64"] [--samples N] [--transport ucx|mpi]
# Defaults: build/, perf/out/wide-DATE-TIME, 3200 samples, ucx. Exit 1 when a run or check fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build out="" widths="4 8 16 32 64" samples=3200 transport=ucx
while [[ $# -gt 0 ]]; do
  case $1 in
    --build-dir) build=$(cd "$2" && pwd); shift 2 ;;
    --out) out=$2; shift 2 ;;
    --ranks) widths=$2; shift 2 ;;
    --samples) samples=$2; shift 2 ;;
    --transport) transport=$2; shift 2 ;;
    -h|--help) sed -n 2,11p "$0"; exit 0 ;;
    *) echo "perf/wide.sh: error: unknown option $1 (see perf/wide.sh --help)" >&2; exit 2 ;;
  esac
done
out=${out:-$root/perf/out/wide-$(date +%Y%m%d-%H%M%S)}
for tool in "$build/src/apps/ferry" "$build/src/apps/ferry-gen"; do
  [[ -x $tool ]] || { echo "perf/wide.sh: error: $tool not built (see --build-dir)" >&2; exit 2; }
done
mkdir -p "$out/raw"
echo "wide: ranks $widths, $samples samples, $transport; load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores" |
  tee "$out/machine"
for ranks in $widths; do
  SAMPLES=$samples TRANSPORT=$transport "$root/tests/tools/wide_run.sh" "$build" "$out/raw" "$ranks"
  echo "after $ranks ranks: load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/machine"
done
/usr/bin/python3 "$root/perf/wide.py" "$out" "$samples" $widths
