#!/usr/bin/env bash
# stats_json.sh STATS_FILE KINDS STAGES COMMAND...: runs COMMAND (which writes runtime.stats_file =
# STATS_FILE), then checks that every line of the file is a JSON object, that every kind in the comma list
# KINDS appears, and that the `window` lines' job lists place ops of every stage in the comma list STAGES
# ("-": none asked for). When KINDS has rss: every rank (those of the serve and consumer_epoch lines) has an
# rss line with rss_bytes > 0 for every epoch of the epoch lines.
set -euo pipefail
source "$(dirname "$0")/stats_check.sh"
run_then_check 3 "$@" <<'PY'
import json, sys
path, kinds = sys.argv[1], sys.argv[2].split(",")
stages = [] if sys.argv[3] == "-" else sys.argv[3].split(",")
seen, placed = set(), set()
ranks, epochs, rss = set(), set(), {}
with open(path) as f:
    for n, line in enumerate(f, 1):
        try:
            obj = json.loads(line)
        except ValueError as e:
            sys.exit(f"{path}:{n}: not JSON ({e}): {line[:160]}")
        if not isinstance(obj, dict) or "kind" not in obj:
            sys.exit(f"{path}:{n}: not an object with a kind: {line[:160]}")
        seen.add(obj["kind"])
        if obj["kind"] in ("serve", "consumer_epoch"):
            ranks.add(obj["rank"])
        if obj["kind"] == "epoch":
            epochs.add((obj["pipeline"], obj["epoch"]))
        if obj["kind"] == "rss":
            rss[(obj["rank"], obj["pipeline"], obj["epoch"])] = obj["rss_bytes"]
        if obj["kind"] == "window":
            for job in obj["jobs"]:
                placed.add(job["stage"])
missing = [k for k in kinds if k not in seen]
if missing:
    sys.exit(f"{path}: no line of kind {', '.join(missing)} (saw {', '.join(sorted(seen))})")
if "rss" in kinds:
    gaps = [f"rank {r} {p} epoch {e}" for r in sorted(ranks) for (p, e) in sorted(epochs)
            if rss.get((r, p, e), 0) <= 0]
    if gaps or not ranks or not epochs:
        sys.exit(f"{path}: no rss line (or rss_bytes 0) for {', '.join(gaps[:5]) or 'any rank'}")
missing = [s for s in stages if s not in placed]
if missing:
    sys.exit(f"{path}: no window places a {', '.join(missing)} op (placed: {', '.join(sorted(placed))})")
if "rss" in kinds:
    print(f"{path}: rss lines for {len(ranks)} ranks x {len(epochs)} epochs")
print(f"{path}: every line is JSON; kinds {', '.join(sorted(seen))}; stages placed {', '.join(sorted(placed))}")
PY
