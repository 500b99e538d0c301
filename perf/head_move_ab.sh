#!/usr/bin/env bash
# Moving decode (issue 17, docs/heterogeneous.md "The movable head"): ImageNet's augment with the JPEG bytes
# cached (prepare empty, augment = decode_jpeg | random_resized_crop(224) | random_flip | cast | normalize),
# whose head is decode alone, through `ferry run` with monitor.static_head_share 0 (every decode on the
# consumers) and 1 (every decode on the transformation rank, the images sent with their shapes), alternating
# (0 first in odd rounds, 1 first in even ones), ROUNDS times, in one command.
#   perf/head_move_ab.sh BUILD_DIR OUT_DIR [ROUNDS=2] [SAMPLES=2048] [RANKS=4]
# 4 ranks: randomizer, cache server, transformer, one consumer (5: two consumers). SAMPLES ImageNet-like JPEGs
# (ferry-gen jpeg: longer side 500, quality 90, 4:2:0, aspects vary), batch 32, 3 epochs (0 and 1 read from
# HDF5, 2 from the cache). Per run: samples/s of every epoch and of all three, and CPU seconds per sample of
# each role (the ranks' `rank` stats lines, set-up left out). Writes OUT_DIR/runs.txt and OUT_DIR/summary.md
# (share 1 over share 0 ratios per round; n/a where the share 0 figure is 0). The data set is
# OUT_DIR/jpeg_SAMPLES.h5 (made once per sample count). Each run has 600 s (a hang ends the script, naming it).
set -euo pipefail
usage="usage: head_move_ab.sh BUILD_DIR OUT_DIR [ROUNDS] [SAMPLES] [RANKS]"
build=$(realpath "${1:?$usage}") out=$(realpath -m "${2:?$usage}")
rounds=${3:-2} samples=${4:-2048} ranks=${5:-4}
mkdir -p "$out" && cd "$out"
data="$out/jpeg_$samples.h5"
[[ -f $data ]] || "$build/src/apps/ferry-gen" jpeg --out "$data" --samples "$samples" --seed 5 >/dev/null
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
augment="image=decode_jpeg | random_resized_crop(size=224) | random_flip | cast(scale=0.00392156862745098)"
augment+=" | normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])"
: >runs.txt
for ((round = 1; round <= rounds; ++round)); do
  order="0 1"
  ((round % 2)) || order="1 0"
  for share in $order; do
    run="r${round}_share$share"
    rm -f "$run.jsonl"
    rc=0
    timeout -k 10 600 mpirun -n "$ranks" "$build/src/apps/ferry" run --dataset.layout vlen \
      --dataset.files "$data" --dataset.fields image=/images,label=/labels --batch_size 32 --epochs 3 \
      --augment "$augment" --monitor.policy static --monitor.static_head_share "$share" \
      --runtime.stats_file "$out/$run.jsonl" >"$run.log" 2>&1 || rc=$?
    if ((rc == 124 || rc == 137)); then
      echo "head_move_ab.sh: run $run timed out after 600 s (see $out/$run.log)" >&2
      exit 1
    elif ((rc != 0)); then
      echo "head_move_ab.sh: run $run exited $rc (see $out/$run.log)" >&2
      exit 1
    fi
    /usr/bin/env python3 - "$round" "$share" "$run.jsonl" "$samples" >>runs.txt <<'PY'
import json, os, sys
round_, share, path, samples = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
lines = [json.loads(l) for l in open(path)]
epochs = sorted((l for l in lines if l["kind"] == "epoch"), key=lambda e: e["epoch"])
rates = [e["samples"] / e["seconds"] for e in epochs]
total = sum(e["samples"] for e in epochs) / sum(e["seconds"] for e in epochs)
cpu = {}
for l in lines:
    if l["kind"] == "rank":
        cpu[l["role"]] = cpu.get(l["role"], 0.0) + l["cpu_seconds"] - l["setup_cpu_seconds"]
heads = sum(l.get("past_head_batches", 0) for l in lines if l["kind"] == "consumer_epoch")
per = lambda role: f"{1e3 * cpu.get(role, 0.0) / (samples * len(epochs)):.3f}"
print(round_, share, *(f"{r:.0f}" for r in rates), f"{total:.0f}", per("consumer"), per("transformer"),
      per("randomizer"), per("cache_server"), heads, f"{os.getloadavg()[0]:.1f}")
PY
  done
done
/usr/bin/env python3 - <<'PY' >summary.md
rows = {}
for line in open("runs.txt"):
    f = line.split()
    rows.setdefault(f[0], {})[f[1]] = f
print("CPU ms per sample (all epochs) by role; ratios are share 1 / share 0 in the same round.\n")
print("| round | share | epoch 0 / 1 / 2 samples/s | all epochs samples/s | consumer CPU ms | transformer CPU ms "
      "| randomizer CPU ms | cache server CPU ms | batches past head | load |")
print("|---|---|---|---|---|---|---|---|---|---|")
for r, by in sorted(rows.items()):
    for s in ("0", "1"):
        f = by[s]
        print(f"| {r} | {s} | {f[2]} / {f[3]} / {f[4]} | {f[5]} | {f[6]} | {f[7]} | {f[8]} | {f[9]} | {f[10]} "
              f"| {f[11]} |")
print("\n| round | samples/s, all epochs | epoch 2 (cached) samples/s | consumer CPU/sample | transformer "
      "CPU/sample | consumer + transformer CPU/sample |")
print("|---|---|---|---|---|---|")
for r, by in sorted(rows.items()):
    a, b = by["0"], by["1"]
    over = lambda num, den: f"{num / den:.2f}" if den else "n/a"
    ratio = lambda i: over(float(b[i]), float(a[i]))
    both = over(float(b[6]) + float(b[7]), float(a[6]) + float(a[7]))
    print(f"| {r} | {ratio(5)} | {ratio(4)} | {ratio(6)} | {ratio(7)} | {both} |")
PY
cat summary.md
