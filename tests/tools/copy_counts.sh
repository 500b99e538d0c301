#!/usr/bin/env bash
# copy_counts.sh STATS_FILE HIT_COPIES COMMAND...: runs COMMAND (a `ferry run` of 2 epochs without a prepare
# stage that writes runtime.stats_file = STATS_FILE, with a cache that holds the dataset), then checks the
# copy counters of docs/runtime.md ("Copies") as counts, never times:
#   consumer_epoch: hits took HIT_COPIES copies per byte (1: gets straight into the batch; 2: small entries of
#     several fields, read whole into staging), misses 2 (the transport's receive, the copy into place), the
#     two cover every byte delivered, and epoch 1 had hits;
#   transformer_copies: misses took 2 copies per byte (into the message, Fabric::send's copy), cache inserts 4
#     (into the message, Fabric::send's copy, the receive, the copy into the slab);
#   memory_setup: the cache slab and the batch pools were faulted in at start.
set -euo pipefail
stats=$1 hit_copies=$2
shift 2
rm -f "$stats"
"$@" >/dev/null
py=/usr/bin/python3
[[ -x $py ]] || py=python3
"$py" - "$stats" "$hit_copies" <<'PY'
import json, sys
path, hit_copies = sys.argv[1], int(sys.argv[2])
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
    if c["miss_copied"] != 2 * c["miss_bytes"]:
        fail(f"epoch {e['epoch']} rank {e['rank']}: misses copied {c['miss_copied']} for {c['miss_bytes']}")
    if c["hit_bytes"] + c["miss_bytes"] != e["bytes"]:
        fail(f"epoch {e['epoch']} rank {e['rank']}: copies cover {c['hit_bytes'] + c['miss_bytes']} of {e['bytes']} bytes")
if not any(e["epoch"] == 1 and e["copies"]["hit_bytes"] > 0 for e in epochs):
    fail("no hit in epoch 1")
sent = [l for l in lines if l["kind"] == "transformer_copies"]
if not sent or sum(t["miss_bytes"] for t in sent) == 0 or sum(t["insert_bytes"] for t in sent) == 0:
    fail("no transformer_copies line with misses and inserts")
for t in sent:
    if t["miss_copied"] != 2 * t["miss_bytes"] or t["insert_copied"] != 4 * t["insert_bytes"]:
        fail(f"transformer copies: {t}")
setup = {l["what"] for l in lines if l["kind"] == "memory_setup"}
for what in ["cache slab", "batch pools"]:
    if what not in setup:
        fail(f"no memory_setup line for the {what} (saw {sorted(setup)})")
print(f"{path}: hits {hit_copies} copy/byte, misses 2 on the transformer + 2 on the consumer, inserts 4; "
      f"set-up: {', '.join(sorted(setup))}")
PY
