#!/usr/bin/env bash
# message_buffers.sh STATS_FILE BUDGET COMMAND...: runs COMMAND (a `ferry run` with
# runtime.message_buffer_bytes = BUDGET that writes runtime.stats_file = STATS_FILE), then checks every rank's
# `rank` line (docs/runtime.md, "Message buffers") as counts: reuses never exceed takes and the bytes kept
# never the budget; with BUDGET 0 nothing is kept or reused; otherwise the consumers reused a payload
# buffer. They must: a consumer holds at most prefetch batches' miss lists before it credits a batch, and it
# hands each list back before that, so every list after those finds one of the same size (one list a batch
# of small samples: runtime.miss_list_bytes).
set -euo pipefail
source "$(dirname "$0")/stats_check.sh"
run_then_check 2 "$@" <<'PY'
import json, sys
path, budget = sys.argv[1], int(sys.argv[2])
ranks = [json.loads(l) for l in open(path)]
ranks = [r for r in ranks if r["kind"] == "rank"]
if not ranks:
    sys.exit(f"{path}: no rank line")
consumers_reused = 0
for r in ranks:
    taken, reused, peak = r["buffers_taken"], r["buffers_reused"], r["buffers_peak_bytes"]
    if reused > taken:
        sys.exit(f"{path}: rank {r['rank']} ({r['role']}) reused {reused} of {taken} buffers taken")
    if peak > budget:
        sys.exit(f"{path}: rank {r['rank']} ({r['role']}) kept {peak} bytes, over the budget {budget}")
    if budget == 0 and reused != 0:
        sys.exit(f"{path}: rank {r['rank']} ({r['role']}) reused {reused} buffers with a budget of 0")
    if r["role"] == "consumer":
        consumers_reused += reused
    print(f"rank {r['rank']} ({r['role']}): {reused} of {taken} reused, peak {peak} of {budget} bytes")
if budget > 0 and consumers_reused == 0:
    sys.exit(f"{path}: no consumer reused a message buffer")
PY
