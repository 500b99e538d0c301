#!/usr/bin/env bash
# perf/soak.sh: the soak benchmark (issue 15). One run of EPOCHS epochs over a small generated image set per
# transport (UCX, MPI), 6 ranks (randomizer, cache server, 2 transformers, 2 consumers), role rebalancing on,
# a cache smaller than the prepared set (entries are evicted and refilled every epoch). Checks: every rank's
# RSS (the stats file's `rss` lines, one per rank and epoch) grows by <= 1 % from epoch 2 to the last epoch;
# every epoch delivers each sample exactly once and the IDs per consumer equal `ferry local`'s; the cache's
# peak use stays within its capacity. Writes summary.md, results.json and rss_per_rank.png (perf/soak.py).
#
#   perf/soak.sh [--build-dir DIR] [--out DIR] [--epochs N] [--samples N]
# Defaults: build/, perf/out/soak-DATE-TIME, 100 epochs, 1024 samples of 16x16x3 u8. Exit 1 when a check fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build out="" epochs=100 samples=1024
while [[ $# -gt 0 ]]; do
  case $1 in
    --build-dir) build=$(cd "$2" && pwd); shift 2 ;;
    --out) out=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --samples) samples=$2; shift 2 ;;
    -h|--help) sed -n 2,11p "$0"; exit 0 ;;
    *) echo "perf/soak.sh: error: unknown option $1 (see perf/soak.sh --help)" >&2; exit 2 ;;
  esac
done
out=${out:-$root/perf/out/soak-$(date +%Y%m%d-%H%M%S)}
ferry=$build/src/apps/ferry gen=$build/src/apps/ferry-gen
for tool in "$ferry" "$gen"; do
  [[ -x $tool ]] || { echo "perf/soak.sh: error: $tool not built (see --build-dir)" >&2; exit 2; }
done
mkdir -p "$out/raw"
raw=$out/raw
if [[ $(id -u) -eq 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
mpirun=(mpiexec --oversubscribe)

"$gen" image --out "$raw/soak.h5" --samples "$samples" --height 16 --width 16 --chunk 64 >/dev/null
# 16x16x3 f32 after the prepare stage: 3 KiB a sample; the cache holds about two thirds of the set.
cache=$((samples * 3072 * 2 / 3))
flags=(--dataset.files "$raw/soak.h5" --dataset.fields image=/images,label=/labels --batch_size 16
       --epochs "$epochs" --prepare "image=cast | hwc_to_chw" --augment "image=random_flip")
echo "soak: $epochs epochs of $samples samples, cache $cache bytes per server; load: $(cut -d' ' -f1-3 /proc/loadavg)"
"${mpirun[@]}" -n 2 "$ferry" local "${flags[@]}" --dump-ids "$raw/local" >"$raw/local.out" 2>&1
for transport in ucx mpi; do
  rm -f "$raw/$transport.jsonl"
  start=$(date +%s)
  "${mpirun[@]}" -n 6 "$ferry" run "${flags[@]}" --runtime.transport "$transport" --runtime.transformers 2 \
    --runtime.cache_bytes "$cache" --monitor.rebalance true --runtime.stats_file "$raw/$transport.jsonl" \
    --dump-ids "$raw/$transport" >"$raw/$transport.out" 2>&1
  echo "soak: $transport run took $(($(date +%s) - start)) s"
done
/usr/bin/python3 "$root/perf/soak.py" "$out" "$samples" ucx mpi
