#!/usr/bin/env bash
# Cache inserts in flight (docs/cache.md, "Inserts in flight"): one cold-then-warm job through `ferry run`
# with runtime.inserts_in_flight_bytes at its default (256 MiB) and at 0 (no bound, as before), alternating
# (the default first in odd rounds, 0 first in even ones), ROUNDS times, in one command.
#   perf/inserts_in_flight_ab.sh BUILD_DIR OUT_DIR [ROUNDS=2] [SAMPLES=61440] [SIDE=64] [RANKS=4]
# Ranks: a randomizer, a cache server, a transformer and RANKS - 3 consumers. SAMPLES generated SIDE x SIDE
# images (cast: f32 entries, 49 KB at side 64: the message path), batch 16, 2 epochs: epoch 0 reads HDF5 and
# inserts every entry, epoch 1 is all hits. Per run: each epoch's samples/s; the peak resident memory
# (VmHWM, polled every 0.1 s from /proc while the ranks run) of the cache server and the transformer, less
# the slab bytes the cache server faults in at set-up; the randomizer's inserts_peak_bytes,
# inserts_backlog_peak_bytes and inserts_held (docs/runtime.md's serve line).
# Writes OUT_DIR/runs.txt and OUT_DIR/summary.md. Each run has 600 s.
set -euo pipefail
usage="usage: inserts_in_flight_ab.sh BUILD_DIR OUT_DIR [ROUNDS] [SAMPLES] [SIDE] [RANKS]"
build=$(realpath "${1:?$usage}") out=$(realpath -m "${2:?$usage}")
rounds=${3:-2} samples=${4:-61440} side=${5:-64} ranks=${6:-4}
mkdir -p "$out" && cd "$out"
data="$out/img_${samples}_$side.h5"
[[ -f $data ]] || "$build/src/apps/ferry-gen" image --out "$data" --samples "$samples" --height "$side" \
  --width "$side" >/dev/null
entry=$((side * side * 3 * 4 + 4))
slab=$(((samples + 1) * (entry + 63) / 64 * 64))
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

# poll_hwm FILE: until killed, the largest VmHWM (kB) of every `ferry` process by its MPI rank, into FILE
# (one Python process: forking a reader per /proc entry every 0.1 s would load the machine it measures).
poll_hwm() {
  exec /usr/bin/env python3 - "$1" <<'PY'
import os, sys, time
out, hwm = sys.argv[1], {}
while True:
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if open(f"/proc/{pid}/comm").read().strip() != "ferry":
                continue
            env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
            rank = next(e[21:].decode() for e in env if e.startswith(b"OMPI_COMM_WORLD_RANK="))
            kb = next(int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmHWM"))
        except (OSError, StopIteration):
            continue
        hwm[rank] = max(hwm.get(rank, 0), kb)
    with open(out + ".tmp", "w") as f:
        f.writelines(f"{r} {kb}\n" for r, kb in hwm.items())
    os.replace(out + ".tmp", out)
    time.sleep(0.1)
PY
}

: >runs.txt
for ((round = 1; round <= rounds; ++round)); do
  order="268435456 0"
  ((round % 2)) || order="0 268435456"
  for bound in $order; do
    run="r${round}_b$bound"
    rm -f "$run.jsonl" "$run.hwm"
    poll_hwm "$run.hwm" &
    poller=$!
    rc=0
    timeout -k 10 600 mpirun -n "$ranks" "$build/src/apps/ferry" run \
      --dataset.files "$data" --dataset.fields image=/images,label=/labels --prepare "image=cast" \
      --batch_size 16 --epochs 2 --runtime.transformers 1 --runtime.cache_servers 1 \
      --runtime.cache_bytes "$slab" --runtime.inserts_in_flight_bytes "$bound" \
      --runtime.stats_file "$out/$run.jsonl" >"$run.log" 2>&1 || rc=$?
    kill "$poller" && wait "$poller" 2>/dev/null || true
    if ((rc != 0)); then
      echo "inserts_in_flight_ab.sh: run $run exited $rc (see $out/$run.log)" >&2
      exit 1
    fi
    /usr/bin/env python3 - "$round" "$bound" "$run.jsonl" "$run.hwm" "$slab" >>runs.txt <<'PY'
import json, os, sys
round_, bound, path, hwm_path, slab = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
lines = [json.loads(l) for l in open(path)]
epochs = sorted((l for l in lines if l["kind"] == "epoch"), key=lambda e: e["epoch"])
sps = [e["samples"] / e["seconds"] for e in epochs]
hwm = {int(r): int(kb) * 1024 for r, kb in (l.split() for l in open(hwm_path))}
serve = {l["rank"]: l for l in lines if l["kind"] == "serve"}
def peak(role):
    return max(hwm[r] for r, l in serve.items() if l["role"] == role)
rand = next(l for l in serve.values() if l["role"] == "randomizer")
print(round_, bound, f"{sps[0]:.0f}", f"{sps[1]:.0f}", f"{(peak('cache_server') - slab) / 1e6:.0f}",
      f"{peak('transformer') / 1e6:.0f}", f"{rand['inserts_peak_bytes'] / 1e6:.0f}",
      f"{rand['inserts_backlog_peak_bytes'] / 1e6:.0f}", rand["inserts_held"],
      f"{os.getloadavg()[0]:.1f}")
PY
  done
done
/usr/bin/env python3 - runs.txt "$samples" "$side" "$ranks" >summary.md <<'PY'
import sys
rows, samples, side, ranks = [l.split() for l in open(sys.argv[1])], sys.argv[2], sys.argv[3], sys.argv[4]
print(f"# inserts_in_flight_ab.sh: {samples} images of {side}x{side}, {ranks} ranks (1 cache server, 1")
print("transformer): runtime.inserts_in_flight_bytes 256 MiB (default) against 0 (no bound)\n")
print("| round | bound | cold samples/s | warm samples/s | cache server peak RSS - slab, MB |"
      " transformer peak RSS, MB | inserts in flight peak, MB | backlog peak, MB | held | load |")
print("|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
PY
cat summary.md
