#!/usr/bin/env bash
# Read-ahead from a cold page cache (issue 14, goal 7): `ferry run`, 5 ranks (1 transformer, 2 consumers),
# one epoch, cache_bytes = 0, runtime.read_ahead_bytes 0 (off) against 64 MiB (on), alternating, ROUNDS
# times, with the kernel's page cache dropped before every run (root: /proc/sys/vm/drop_caches), so every
# read comes from the disk as it would from a parallel file system. perf/bench_read_ahead.py measures the
# same with the files cached (the suite's data); this one shows what the overlap is for.
#   perf/read_ahead_cold.sh BUILD_DIR OUT_DIR [ROUNDS=3]
# Data (generated once in OUT_DIR): cosmo, 512 files of 4x48^3 i16 (432 MiB), prepare `cast | log1p`, batch
# 4; image, 3072 x 224x224x3 u8 (441 MiB), prepare `cast | hwc_to_chw`, augment `random_flip`, batch 16.
# Writes OUT_DIR/runs.txt (one line a run: set, budget, wall s, CPU s of every rank) and OUT_DIR/summary.md
# (on/off ratios per round).
set -euo pipefail
build=$(realpath "${1:?usage: read_ahead_cold.sh BUILD_DIR OUT_DIR [ROUNDS]}") out=$(realpath -m "${2:?OUT_DIR}")
rounds=${3:-3}
[[ -w /proc/sys/vm/drop_caches ]] || { echo "read_ahead_cold.sh: needs root (/proc/sys/vm/drop_caches)" >&2; exit 1; }
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
    for budget in 0 67108864; do
      sync && echo 3 >/proc/sys/vm/drop_caches
      rm -f stats.jsonl
      start=$(date +%s.%N)
      mpirun -np 5 "$ferry" run "${flags[@]}" --epochs 1 --runtime.cache_bytes 0 --runtime.read_ahead_bytes "$budget" \
        --runtime.stats_file stats.jsonl >run.out 2>&1 || { tail -5 run.out >&2; exit 1; }
      end=$(date +%s.%N)
      cpu=$(/usr/bin/python3 -c 'import json,sys; print(round(sum(o["cpu_seconds"] for o in map(json.loads, open(sys.argv[1])) if o.get("kind") == "rank"), 3))' stats.jsonl)
      echo "$round $set $budget $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }') $cpu $(cut -d' ' -f1 /proc/loadavg)" | tee -a runs.txt
    done
  done
done
/usr/bin/python3 - runs.txt >summary.md <<'PY'
import sys
runs = {}
for line in open(sys.argv[1]):
    r, s, b, wall, cpu, load = line.split()
    runs[(int(r), s, int(b) > 0)] = (float(wall), float(cpu), load)
print("| round | set | wall s off / on | ratio on/off | CPU s (all ranks) off / on | ratio on/off | load |")
print("|---|---|---|---|---|---|---|")
for (r, s, on), (wall, cpu, load) in sorted(runs.items()):
    if not on:
        w1, c1, l1 = runs[(r, s, True)]
        print(f"| {r} | {s} | {wall:.2f} / {w1:.2f} | {w1 / wall:.3f} | {cpu:.2f} / {c1:.2f} | {c1 / cpu:.3f} | {load}-{l1} |")
PY
cat summary.md
