#!/bin/bash
# Where a consumer's epoch goes: runs `ferry_bench run CONFIG` with `perf record` on one rank (the last by
# default, a consumer with the default layout) and splits its samples by the epochs that rank timed
# (ferry_bench's end_s, the steady clock perf stamps with -k CLOCK_MONOTONIC). Prints, per epoch: wall ms,
# on-CPU ms (samples / frequency), and the on-CPU ms of the hottest symbol over the run. Used for issue 14's
# goal 2 (perf/README.md, "Epoch profiles"): an epoch slower than another with the same on-CPU share is
# waiting; one that is on CPU all along and slower in the same symbol is slower at that work.
#
#   perf/epoch_oncpu.sh BUILD_DIR CONFIG OUT_DIR [RANKS] [RANK]     (RANKS: 4; needs linux-perf, root or
#                                                                    perf_event_paranoid <= 1)
set -euo pipefail
build=${1:?build dir}
config=${2:?config}
out=${3:?out dir}
ranks=${4:-4}
rank=${5:-$((ranks - 1))}
freq=4999
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out/run.jsonl"
root=()
[ "$(id -u)" = 0 ] && root=(--allow-run-as-root)
# shellcheck disable=SC2016  # expanded by each rank's shell
mpirun -n "$ranks" --oversubscribe --bind-to none "${root[@]}" bash -c \
  'if [ "$OMPI_COMM_WORLD_RANK" = "$0" ]; then exec perf record -q -k CLOCK_MONOTONIC -F "$1" -g -o "$2/rank.data" "${@:3}"; fi
   exec "${@:3}"' "$rank" "$freq" "$out" "$build/perf/ferry_bench" run "$config" "$out/run.jsonl" \
  >"$out/run.log" 2>&1
perf script -i "$out/rank.data" -F time,ip,sym --no-inline 2>/dev/null >"$out/samples.txt"
/usr/bin/env python3 - "$out" "$rank" "$freq" <<'EOF'
import collections, json, sys
out, rank, freq = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
line = next(json.loads(x) for x in open(f"{out}/run.jsonl") if json.loads(x).get("rank") == rank)
if line.get("role") != "consumer":
    sys.exit(f"epoch_oncpu: rank {rank} is a {line.get('role')}, not a consumer: pass RANK")
epochs = line["pipelines"][0]["epochs"]
samples, t = [], None  # (time, leaf symbol): a sample's line holds its time, the next its leaf frame
for text in open(f"{out}/samples.txt"):
    fields = text.split()
    if len(fields) == 1 and fields[0].endswith(":"):
        t = float(fields[0][:-1])
    elif t is not None and len(fields) >= 2:
        samples.append((t, fields[1]))
        t = None
hot = collections.Counter(s for _, s in samples).most_common(1)[0][0]
print(f"rank {rank}, {len(samples)} samples at {freq:.0f} Hz; hottest symbol: {hot}")
print("epoch  wall_ms  oncpu_ms  hot_ms")
ms = 1000.0 / freq
for e in epochs:
    lo, hi = e["end_s"] - e["seconds"], e["end_s"]
    inside = [s for x, s in samples if lo <= x < hi]
    print(f"{e['epoch']:5d} {e['seconds'] * 1000:8.1f} {len(inside) * ms:9.1f} {sum(s == hot for s in inside) * ms:7.1f}")
EOF
