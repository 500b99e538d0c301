#!/usr/bin/env bash
# Message payload buffers kept for reuse (docs/runtime.md, "Message buffers"): the same job through
# `ferry run` with runtime.message_buffer_bytes at its default (64 MiB) and at 0 (every payload freed once
# handled and every send copy once sent; since 2026-12-07 sends' copies are kept too, so its figures do not
# compare with perf/results/2026-12-06-buffers), alternating (the default first in odd rounds, 0 first in even ones), ROUNDS times, in one
# command.
#   perf/message_buffers_ab.sh BUILD_DIR OUT_DIR [ROUNDS=2] [SAMPLES=61440] [SIDE=32]
# Ranks: a randomizer, a cache server, 2 transformers and 4 consumers (validate.py's p8 layout). SAMPLES
# generated SIDE x SIDE images (cast: f32 entries, 12 KB at side 32, 49 KB at 64: the message path), batch 16,
# 2 epochs: epoch 0 reads HDF5 and inserts every entry, epoch 1 is all hits. Per run: each epoch's samples/s,
# the job's CPU seconds after set-up (its ranks' `rank` lines), its minor page faults (GNU time over mpirun,
# which waits for the ranks) and the buffers (payloads and send copies) reused of those taken. Writes OUT_DIR/runs.txt and
# OUT_DIR/summary.md (default over 0 per round). Each run has 600 s.
set -euo pipefail
usage="usage: message_buffers_ab.sh BUILD_DIR OUT_DIR [ROUNDS] [SAMPLES] [SIDE]"
build=$(realpath "${1:?$usage}") out=$(realpath -m "${2:?$usage}")
rounds=${3:-2} samples=${4:-61440} side=${5:-32}
mkdir -p "$out" && cd "$out"
data="$out/img_${samples}_$side.h5"
[[ -f $data ]] || "$build/src/apps/ferry-gen" image --out "$data" --samples "$samples" --height "$side" \
  --width "$side" >/dev/null
entry=$((side * side * 3 * 4 + 4))
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
: >runs.txt
for ((round = 1; round <= rounds; ++round)); do
  order="67108864 0"
  ((round % 2)) || order="0 67108864"
  for budget in $order; do
    run="r${round}_b$budget"
    rm -f "$run.jsonl"
    rc=0
    /usr/bin/time -f "%R" -o "$run.faults" timeout -k 10 600 mpirun -n 8 "$build/src/apps/ferry" run \
      --dataset.files "$data" --dataset.fields image=/images,label=/labels --prepare "image=cast" \
      --batch_size 16 --epochs 2 --runtime.transformers 2 --runtime.cache_servers 1 \
      --runtime.cache_bytes $(((samples + 1) * (entry + 63) / 64 * 64)) --runtime.message_buffer_bytes "$budget" \
      --runtime.stats_file "$out/$run.jsonl" >"$run.log" 2>&1 || rc=$?
    if ((rc != 0)); then
      echo "message_buffers_ab.sh: run $run exited $rc (see $out/$run.log)" >&2
      exit 1
    fi
    /usr/bin/env python3 - "$round" "$budget" "$run.jsonl" "$(tail -1 "$run.faults")" >>runs.txt <<'PY'
import json, os, sys
round_, budget, path, faults = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
lines = [json.loads(l) for l in open(path)]
epochs = sorted((l for l in lines if l["kind"] == "epoch"), key=lambda e: e["epoch"])
sps = [e["samples"] / e["seconds"] for e in epochs]
ranks = [l for l in lines if l["kind"] == "rank"]
cpu = sum(l["cpu_seconds"] - l["setup_cpu_seconds"] for l in ranks)
taken, reused = sum(l["buffers_taken"] for l in ranks), sum(l["buffers_reused"] for l in ranks)
print(round_, budget, f"{sps[0]:.0f}", f"{sps[1]:.0f}", f"{cpu:.2f}", faults, taken, reused,
      f"{os.getloadavg()[0]:.1f}")
PY
  done
done
/usr/bin/env python3 - runs.txt "$samples" "$side" >summary.md <<'PY'
import sys
rows, samples, side = [l.split() for l in open(sys.argv[1])], sys.argv[2], sys.argv[3]
by = {(r[0], r[1]): r for r in rows}
print(f"# message_buffers_ab.sh: {samples} images of {side}x{side}, 8 ranks (4 consumers, 2 transformers,")
print("1 cache server): runtime.message_buffer_bytes 64 MiB (default) against 0\n")
print("| round | budget | cold samples/s | warm samples/s | job CPU s | minor faults | buffers reused / taken | load |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]} | {r[7]} / {r[6]} | {r[8]} |")
print("\n| round | cold samples/s, default over 0 | warm samples/s | job CPU | minor faults |")
print("|---|---|---|---|---|")
for rnd in sorted({r[0] for r in rows}, key=int):
    on, off = by.get((rnd, "67108864")), by.get((rnd, "0"))
    if on and off:
        ratio = [float(on[i]) / float(off[i]) for i in (2, 3, 4, 5)]
        print(f"| {rnd} | " + " | ".join(f"{x:.2f}" for x in ratio) + " |")
PY
cat summary.md
