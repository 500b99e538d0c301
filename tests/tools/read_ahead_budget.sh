#!/usr/bin/env bash
# read_ahead_budget.sh STATS_FILE BUDGET COMMAND...: runs COMMAND (a `ferry run` with
# runtime.read_ahead_bytes = BUDGET that writes runtime.stats_file = STATS_FILE), then checks each
# transformation rank's read_ahead line (docs/runtime.md, "Read-ahead") as counts, never times: its budget is
# BUDGET, it read something, and it never held more than the budget, or than its largest single read where a
# read was larger than the budget (such a read runs alone).
set -euo pipefail
source "$(dirname "$0")/stats_check.sh"
run_then_check 2 "$@" <<'PY'
import json, sys
path, budget = sys.argv[1], int(sys.argv[2])
lines = [json.loads(l) for l in open(path)]
ahead = [l for l in lines if l["kind"] == "read_ahead"]
if not ahead:
    sys.exit(f"{path}: no read_ahead line")
for a in ahead:
    if a["budget_bytes"] != budget:
        sys.exit(f"{path}: rank {a['rank']}: budget {a['budget_bytes']}, expected {budget}")
    if a["peak_bytes"] <= 0 or a["largest_read_bytes"] <= 0:
        sys.exit(f"{path}: rank {a['rank']} read nothing ahead: {a}")
    if a["peak_bytes"] > max(budget, a["largest_read_bytes"]):
        sys.exit(f"{path}: rank {a['rank']} held {a['peak_bytes']} bytes, over its budget {budget} "
                 f"(largest read {a['largest_read_bytes']})")
    print(f"rank {a['rank']}: peak {a['peak_bytes']} of {budget} bytes, largest read {a['largest_read_bytes']}")
PY
