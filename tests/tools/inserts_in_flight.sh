#!/usr/bin/env bash
# inserts_in_flight.sh STATS_FILE BOUND COMMAND...: runs COMMAND (a `ferry run` with
# runtime.inserts_in_flight_bytes = BOUND, cold first epoch, that writes runtime.stats_file = STATS_FILE),
# then checks the randomizers' `serve` lines (docs/cache.md, "Inserts in flight") as counts, never times:
# some batch admitted inserts; with BOUND 0 no batch waited for the bound; otherwise no batch was described
# while the backlog (inserts in flight of batches already credited) was at BOUND or more: with BOUND 1, only
# while every credited batch's inserts were acked.
set -euo pipefail
source "$(dirname "$0")/stats_check.sh"
run_then_check 2 "$@" <<'PY'
import json, sys
path, bound = sys.argv[1], int(sys.argv[2])
lines = [json.loads(l) for l in open(path)]
randomizers = [l for l in lines if l["kind"] == "serve" and l["initial_role"] == "randomizer"]
if not randomizers:
    sys.exit(f"{path}: no randomizer serve line")
for r in randomizers:
    peak, backlog, held = r["inserts_peak_bytes"], r["inserts_backlog_peak_bytes"], r["inserts_held"]
    where = f"{path}: rank {r['rank']} (randomizer)"
    if peak <= 0:
        sys.exit(f"{where}: no insert in flight in a cold epoch")
    if bound == 0 and held != 0:
        sys.exit(f"{where}: {held} batches waited with no bound")
    if bound > 0 and backlog > bound - 1:
        sys.exit(f"{where}: a batch was described with a backlog of {backlog} bytes, bound {bound}")
    print(f"rank {r['rank']}: peak {peak} bytes in flight, backlog peak {backlog}, held {held}, bound {bound}")
PY
