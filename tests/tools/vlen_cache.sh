#!/usr/bin/env bash
# vlen_cache.sh PREFIX SAMPLES EPOCHS EXPECT "LOCAL COMMAND" "RUN COMMAND" ...
#   Cached variable-length entries (docs/cache.md, "Variable entries"). Runs the `ferry local` command line
#   with --digest, then each `ferry run` command line (through bash) with --digest, --dump-ids PREFIX.<k> and
#   --runtime.stats_file PREFIX.<k>.jsonl, and checks, as counts:
#   - every run exits 0 and prints the local run's digests;
#   - per epoch, every ID in [0, SAMPLES) arrives exactly once over the consumers;
#   - the consumers' consumer_epoch lines: epoch 0 is all misses (nothing is known before the first read);
#     EXPECT "all" (a cache that holds the set): epoch 1 is all misses too (read and inserted) and every
#     epoch from 2 on is all hits; EXPECT "some" (a cache too small for the set): the epochs from 2 on have
#     hits and misses;
#   - the randomizer's serve line: the cache's peak use of a server is above 0 and never above its capacity;
#   - with FERRY_HEAD_BATCHES=N in the environment (the movable augment head, docs/heterogeneous.md): the
#     transformers' serve lines ran the head of N batches in all, and the consumers' consumer_epoch lines got
#     N batches past their head.
set -uo pipefail
prefix=$1 samples=$2 epochs=$3 expect=$4 local_cmd=$5
shift 5
source "$(dirname "$0")/checked_runs.sh"
local_digest "$local_cmd"
k=0
for cmd in "$@"; do
  checked_run $k "$cmd"
  checked=$(/usr/bin/python3 - "$prefix.$k.jsonl" "$samples" "$epochs" "$expect" "${FERRY_HEAD_BATCHES:-}" <<'PY'
import json, sys
path, samples, epochs, expect, heads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
lines = [json.loads(l) for l in open(path)]
per = {}
for l in lines:
    if l["kind"] == "consumer_epoch":
        e = per.setdefault(l["epoch"], [0, 0, 0])
        e[0] += l["samples"]; e[1] += l["hits"]; e[2] += l["misses"]
if sorted(per) != list(range(epochs)):
    sys.exit(f"consumer_epoch lines for epochs {sorted(per)}, not 0..{epochs - 1}")
for epoch, (n, hits, misses) in sorted(per.items()):
    if n != samples or hits + misses != samples:
        sys.exit(f"epoch {epoch}: {n} samples, {hits} hits + {misses} misses, expected {samples}")
if per[0][1] != 0:
    sys.exit(f"epoch 0 has {per[0][1]} hits: nothing can be cached before the first read")
later = [per[e] for e in range(2, epochs)]
if expect == "all":
    if per[1][1] != 0:
        sys.exit(f"epoch 1 has {per[1][1]} hits: the sizes are learned in epoch 0, the entries inserted in 1")
    bad = [e for e in range(2, epochs) if per[e][2] != 0]
    if bad:
        sys.exit(f"epochs {bad} have misses with a cache that holds the set: {per}")
elif not (sum(h for _, h, _ in later) > 0 and sum(m for _, _, m in later) > 0):
    sys.exit(f"a cache too small for the set: expected hits and misses from epoch 2 on, got {per}")
serve = [l for l in lines if l["kind"] == "serve" and l["cache_capacity"] > 0]
if not serve:
    sys.exit("no serve line with a cache")
for s in serve:
    if not 0 < s["cache_peak_bytes"] <= s["cache_capacity"]:
        sys.exit(f"rank {s['rank']}: cache peak {s['cache_peak_bytes']} bytes, capacity {s['cache_capacity']}")
note = ""
if heads:
    ran = sum(l.get("head_batches", 0) for l in lines if l["kind"] == "serve")
    came = sum(l.get("past_head_batches", 0) for l in lines if l["kind"] == "consumer_epoch")
    if ran != int(heads) or came != int(heads):
        sys.exit(f"heads run on transformers: {ran} batches, {came} arrived past their head, expected {heads}")
    note = f"; {ran} batches past their head"
print(", ".join(f"epoch {e}: {h} hits {m} misses" for e, (_, h, m) in sorted(per.items())) +
      f"; peak {max(s['cache_peak_bytes'] for s in serve)} of {serve[0]['cache_capacity']} bytes" + note)
PY
) || fail "stats: $checked"
  echo "run $k: same digests, every sample once per epoch; $checked"
  k=$((k + 1))
done
