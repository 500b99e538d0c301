#!/usr/bin/env bash
# directory_shards.sh PREFIX SAMPLES EPOCHS SHARDS "LOCAL COMMAND" "REFERENCE RUN" "SHARDED RUN" ...
#   The cache directory sharded by key range (runtime.directory_shards, docs/scaling.md). Runs the `ferry
#   local` command line with --digest, the reference `ferry run` (one randomizer) and each sharded run with
#   --digest, --dump-ids PREFIX.<k> and --runtime.stats_file PREFIX.<k>.jsonl, and checks, as counts:
#   - every run exits 0 and prints the local run's digests;
#   - per epoch, every ID in [0, SAMPLES) arrives exactly once over the consumers;
#   - one epoch line per epoch (printed by shard 0 alone), whose samples, hits, misses and HDF5 bytes equal
#     the reference run's: the other shards' figures were summed in;
#   - SHARDS randomizers, and from epoch 1 on every sample a hit (the cache holds the set): each randomizer's
#     directory hits are exactly its key range's samples x (EPOCHS - 1), so shard j held the samples
#     [SAMPLES x j / SHARDS, SAMPLES x (j + 1) / SHARDS) and no other.
set -uo pipefail
prefix=$1 samples=$2 epochs=$3 shards=$4 local_cmd=$5
shift 5
source "$(dirname "$0")/checked_runs.sh"
local_digest "$local_cmd"
k=0
for cmd in "$@"; do
  checked_run $k "$cmd"
  checked=$(/usr/bin/python3 - "$prefix.0.jsonl" "$prefix.$k.jsonl" "$samples" "$epochs" "$shards" "$k" <<'PY'
import json, sys
ref_path, path, samples, epochs, shards, k = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
def lines(p):
    return [json.loads(l) for l in open(p)]
def epoch_lines(ls):
    return {(l["pipeline"], l["epoch"]): l for l in ls if l["kind"] == "epoch"}
mine, ref = lines(path), epoch_lines(lines(ref_path))
got = [l for l in mine if l["kind"] == "epoch"]
if len(got) != len(epoch_lines(mine)) or len(got) != epochs:
    sys.exit(f"{len(got)} epoch lines, expected one per epoch ({epochs})")
for key, l in epoch_lines(mine).items():
    for f in ("samples", "hits", "misses", "hdf5_bytes"):
        if l[f] != ref[key][f]:
            sys.exit(f"epoch {key[1]}: {f} = {l[f]}, the reference run's {ref[key][f]}")
    if key[1] >= 1 and l["hits"] != samples:
        sys.exit(f"epoch {key[1]}: {l['hits']} hits of {samples}: the cache holds the set")
if k == 0:
    sys.exit(0)
rand = sorted((l for l in mine if l["kind"] == "serve" and l["role"] == "randomizer"), key=lambda l: l["rank"])
if len(rand) != shards:
    sys.exit(f"{len(rand)} randomizers, expected {shards}")
want = [(samples * (j + 1) // shards - samples * j // shards) * (epochs - 1) for j in range(shards)]
hits = [l["cache_hits"] for l in rand]
if hits != want:
    sys.exit(f"directory hits per randomizer {hits}, expected their key ranges' {want}")
print(f"directory hits per shard {hits}")
PY
) || fail "stats: $checked"
  echo "run $k: same digests, every sample once per epoch, epoch lines equal the reference's${checked:+; $checked}"
  k=$((k + 1))
done
