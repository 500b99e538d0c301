#!/usr/bin/env bash
# One config key, two values, the same cold runs (issue 14): `ferry run`, 5 ranks (1 transformer, 2
# consumers), runtime.cache_bytes = 0 (every sample a miss), KEY = A against KEY = B, alternating, ROUNDS
# times, on two sets; wall clock and the CPU seconds of every rank (their `rank` stats lines) per run.
#   perf/ab_epoch.sh [--drop-caches] [--epochs N] KEY A B BUILD_DIR OUT_DIR [ROUNDS=3]
# --drop-caches: the kernel's page cache is dropped before every run (root: /proc/sys/vm/drop_caches), so
# every read comes from the disk as it would from a parallel file system. --epochs: per run (default 1).
# Data (generated once in OUT_DIR): cosmo, 512 files of 4x48^3 i16 (432 MiB), prepare `cast | log1p`, batch
# 4 (prepared entries of about 1.7 MB); image, 3072 x 224x224x3 u8 (441 MiB), prepare `cast | hwc_to_chw`,
# augment `random_flip`, batch 16 (prepared entries of about 602 KB).
# Writes OUT_DIR/runs.txt (one line a run: round, set, value, wall s, CPU s, load) and OUT_DIR/summary.md
# (B/A ratios per round). perf/read_ahead_cold.sh and perf/send_pool_ab.sh are its two uses.
set -euo pipefail
drop=0 epochs=1
while [[ ${1:-} == --* ]]; do
  case $1 in
    --drop-caches) drop=1; shift ;;
    --epochs) epochs=${2:?--epochs N}; shift 2 ;;
    *) echo "ab_epoch.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
usage="usage: ab_epoch.sh [--drop-caches] [--epochs N] KEY A B BUILD_DIR OUT_DIR [ROUNDS]"
key=${1:?$usage} a=${2:?$usage} b=${3:?$usage}
build=$(realpath "${4:?$usage}") out=$(realpath -m "${5:?$usage}")
rounds=${6:-3}
((drop == 0)) || [[ -w /proc/sys/vm/drop_caches ]] || { echo "ab_epoch.sh: --drop-caches needs root" >&2; exit 1; }
mkdir -p "$out" && cd "$out"
ferry=$build/src/apps/ferry gen=$build/src/apps/ferry-gen
[[ -d cosmo ]] || "$gen" cosmoflow --out cosmo --samples 512 --cosmo-width 48 >/dev/null
[[ -f img.h5 ]] || "$gen" image --out img.h5 --samples 3072 --height 224 --width 224 >/dev/null
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
cosmo=(--name cosmo --dataset.layout file_per_sample --dataset.files cosmo --dataset.fields full=full,params=unitPar
  --prepare "full=cast | log1p" --batch_size 4)
image=(--name image --dataset.files img.h5 --dataset.fields image=/images,label=/labels --batch_size 16
  --prepare "image=cast(scale=0.00392157) | hwc_to_chw" --augment "image=random_flip")
: >runs.txt
for ((round = 1; round <= rounds; ++round)); do
  for set in cosmo image; do
    declare -n flags=$set
    for value in "$a" "$b"; do
      ((drop == 0)) || { sync && echo 3 >/proc/sys/vm/drop_caches; }
      rm -f stats.jsonl
      start=$(date +%s.%N)
      mpirun -np 5 "$ferry" run "${flags[@]}" --epochs "$epochs" --runtime.cache_bytes 0 "--$key" "$value" \
        --runtime.stats_file stats.jsonl >run.out 2>&1 || { tail -5 run.out >&2; exit 1; }
      end=$(date +%s.%N)
      cpu=$(/usr/bin/python3 -c 'import json,sys; print(round(sum(o["cpu_seconds"] for o in map(json.loads, open(sys.argv[1])) if o.get("kind") == "rank"), 3))' stats.jsonl)
      echo "$round $set $value $(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }') $cpu $(cut -d' ' -f1 /proc/loadavg)" | tee -a runs.txt
    done
  done
done
/usr/bin/python3 - runs.txt "$key" "$a" "$b" >summary.md <<'PY'
import sys
path, key, a, b = sys.argv[1:]
runs = {}
for line in open(path):
    r, s, v, wall, cpu, load = line.split()
    runs[(int(r), s, v)] = (float(wall), float(cpu), load)
print(f"`{key}`: A = {a}, B = {b}\n")
print("| round | set | wall s A / B | wall B/A | CPU s (all ranks) A / B | CPU B/A | load |")
print("|---|---|---|---|---|---|---|")
for (r, s, v), (wall, cpu, load) in sorted(runs.items()):
    if v == a:
        w1, c1, l1 = runs[(r, s, b)]
        print(f"| {r} | {s} | {wall:.2f} / {w1:.2f} | {w1 / wall:.3f} | {cpu:.2f} / {c1:.2f} | {c1 / cpu:.3f} | {load}-{l1} |")
PY
cat summary.md
