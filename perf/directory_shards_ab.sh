#!/usr/bin/env bash
# The directory sharded by key range (issue 16, docs/scaling.md): the same job through `ferry run` with one
# randomizer (runtime.directory_shards = 1) and with the directory on SHARDS randomizers, alternating (1 first
# in odd rounds, SHARDS first in even ones), ROUNDS times, in one command.
#   perf/directory_shards_ab.sh BUILD_DIR OUT_DIR [ROUNDS=2] [SAMPLES=131072] [SHARDS=2]
# Ranks: the randomizers, a cache server, a transformer and 2 consumers. SAMPLES generated 8x8 images
# (cast | hwc_to_chw, 772-byte entries), batch 256, 3 epochs: epoch 0 reads HDF5, 1 and 2 are all hits (the
# cache holds the set). Per run: samples/s of the cached epochs; the busiest randomizer's CPU per sample the
# job delivered (its `rank` line less set-up, over the samples of all epochs) and its RSS; a cache server's
# RSS; the consumers' messages received per batch. Writes OUT_DIR/runs.txt and OUT_DIR/summary.md (SHARDS over
# 1 per round). Each run has 600 s.
set -euo pipefail
usage="usage: directory_shards_ab.sh BUILD_DIR OUT_DIR [ROUNDS] [SAMPLES] [SHARDS]"
build=$(realpath "${1:?$usage}") out=$(realpath -m "${2:?$usage}")
rounds=${3:-2} samples=${4:-131072} shards=${5:-2}
mkdir -p "$out" && cd "$out"
data="$out/img_$samples.h5"
[[ -f $data ]] || "$build/src/apps/ferry-gen" image --out "$data" --samples "$samples" --height 8 --width 8 \
  --chunk 4096 >/dev/null
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
: >runs.txt
for ((round = 1; round <= rounds; ++round)); do
  order="1 $shards"
  ((round % 2)) || order="$shards 1"
  for d in $order; do
    run="r${round}_d$d"
    rm -f "$run.jsonl"
    rc=0
    timeout -k 10 600 mpirun -n $((d + 4)) "$build/src/apps/ferry" run --dataset.files "$data" \
      --dataset.fields image=/images,label=/labels --prepare "image=cast | hwc_to_chw" --batch_size 256 \
      --epochs 3 --runtime.randomizers "$d" --runtime.directory_shards "$d" --runtime.cache_bytes $((samples * 2048)) \
      --runtime.stats_file "$out/$run.jsonl" >"$run.log" 2>&1 || rc=$?
    if ((rc != 0)); then
      echo "directory_shards_ab.sh: run $run exited $rc (see $out/$run.log)" >&2
      exit 1
    fi
    /usr/bin/env python3 - "$round" "$d" "$run.jsonl" >>runs.txt <<'PY'
import json, os, sys
round_, d, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = [json.loads(l) for l in open(path)]
epochs = sorted((l for l in lines if l["kind"] == "epoch"), key=lambda e: e["epoch"])
delivered = sum(e["samples"] for e in epochs)
warm = sum(e["samples"] for e in epochs[1:]) / sum(e["seconds"] for e in epochs[1:])
rand = [l for l in lines if l["kind"] == "rank" and l["role"] == "randomizer"]
cpu = max(l["cpu_seconds"] - l["setup_cpu_seconds"] for l in rand) / delivered
rss = max(l["rss_bytes"] for l in rand)
idle = min(l["rss_bytes"] for l in lines if l["kind"] == "rank" and l["role"] == "cache_server")
cons = [l for l in lines if l["kind"] == "rank" and l["role"] == "consumer"]
per_batch = sum(l["messages_received"] for l in cons) / (delivered / 256)
print(round_, d, f"{warm:.0f}", f"{1e6 * cpu:.3f}", rss, idle, f"{per_batch:.2f}", f"{os.getloadavg()[0]:.1f}")
PY
  done
done
/usr/bin/env python3 - "$shards" runs.txt >summary.md <<'PY'
import sys
shards, rows = sys.argv[1], [l.split() for l in open(sys.argv[2])]
by = {(r[0], r[1]): r for r in rows}
print(f"# directory_shards_ab.sh: {shards} shards over 1\n")
print("Columns per run: cached epochs' samples/s; the busiest randomizer's CPU us per sample delivered; its RSS;")
print("a cache server's RSS; consumers' messages received per batch; load average.\n")
print("| round | shards | cached samples/s | busiest randomizer CPU us/sample | randomizer RSS MB | cache server RSS MB | consumer messages/batch | load |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {int(r[4]) / 1e6:.1f} | {int(r[5]) / 1e6:.1f} | {r[6]} | {r[7]} |")
print("\n| round | samples/s ratio | randomizer CPU/sample ratio | randomizer RSS ratio |")
print("|---|---|---|---|")
for rnd in sorted({r[0] for r in rows}, key=int):
    a, b = by[(rnd, "1")], by[(rnd, shards)]
    ratio = lambda i: float(b[i]) / float(a[i]) if float(a[i]) else float("nan")
    print(f"| {rnd} | {ratio(2):.2f} | {ratio(3):.2f} | {ratio(4):.2f} |")
PY
cat summary.md
