#!/usr/bin/env bash
# copy_counts.sh STATS_FILE HIT_COPIES MISS_PATH COMMAND...: runs COMMAND (a `ferry run` of 2 epochs without a
# prepare stage that writes runtime.stats_file = STATS_FILE, with a cache that holds the dataset), then checks
# the copy counters of docs/runtime.md ("Copies") as counts, never times:
#   consumer_epoch: hits took HIT_COPIES copies per byte (1: gets straight into the batch; 2: small entries of
#     several fields, read whole into staging), misses 2 with MISS_PATH "message" (the transport's receive,
#     the copy into place) or 1 with "pool" (the get from the send pool), the two cover every byte
#     delivered, and epoch 1 had hits;
#   transformer_copies: "message": misses took 2 copies per byte (into the message, Fabric::send's copy),
#     cache inserts 4 (into the message, Fabric::send's copy, the receive, the copy into the slab), and no
#     batch went through a send pool; "pool": misses 1 (into the send pool), inserts 1 (the cache server's
#     get), and every batch went through the pool;
#   memory_setup: the cache slab and the batch pools (and with "pool" the send pool) were faulted in at start.
set -euo pipefail
source "$(dirname "$0")/stats_check.sh"
run_then_check 3 "$@" <<'PY'
import json, sys
path, hit_copies, miss_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
pool = {"pool": True, "message": False}[miss_path]
miss_copies, send_copies, insert_copies = (1, 1, 1) if pool else (2, 2, 4)
lines = [json.loads(l) for l in open(path)]
def fail(msg):
    sys.exit(f"{path}: {msg}")
epochs = [l for l in lines if l["kind"] == "consumer_epoch"]
if not epochs:
    fail("no consumer_epoch line")
for e in epochs:
    c = e.get("copies") or fail(f"consumer_epoch without copies: {e}")
    if c["hit_copied"] != hit_copies * c["hit_bytes"]:
        fail(f"epoch {e['epoch']} rank {e['rank']}: hits copied {c['hit_copied']} bytes for {c['hit_bytes']}, "
             f"expected {hit_copies} copies")
    if c["miss_copied"] != miss_copies * c["miss_bytes"]:
        fail(f"epoch {e['epoch']} rank {e['rank']}: misses copied {c['miss_copied']} for {c['miss_bytes']}")
    if c["hit_bytes"] + c["miss_bytes"] != e["bytes"]:
        fail(f"epoch {e['epoch']} rank {e['rank']}: copies cover {c['hit_bytes'] + c['miss_bytes']} of {e['bytes']} bytes")
if not any(e["epoch"] == 1 and e["copies"]["hit_bytes"] > 0 for e in epochs):
    fail("no hit in epoch 1")
sent = [l for l in lines if l["kind"] == "transformer_copies"]
if not sent or sum(t["miss_bytes"] for t in sent) == 0 or sum(t["insert_bytes"] for t in sent) == 0:
    fail("no transformer_copies line with misses and inserts")
for t in sent:
    if t["miss_copied"] != send_copies * t["miss_bytes"] or t["insert_copied"] != insert_copies * t["insert_bytes"]:
        fail(f"transformer copies: {t}")
    if (t["message_batches"] if pool else t["pool_batches"]) != 0:
        fail(f"transformer copies: batches went the other way than {miss_path}: {t}")
setup = {l["what"] for l in lines if l["kind"] == "memory_setup"}
for what in ["cache slab", "batch pools"] + (["send pool"] if pool else []):
    if what not in setup:
        fail(f"no memory_setup line for the {what} (saw {sorted(setup)})")
print(f"{path}: hits {hit_copies} copy/byte, misses {send_copies} on the transformer + {miss_copies} on the "
      f"consumer, inserts {insert_copies}; "
      f"set-up: {', '.join(sorted(setup))}")
PY
