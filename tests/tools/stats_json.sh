#!/usr/bin/env bash
# stats_json.sh STATS_FILE KINDS STAGES COMMAND...: runs COMMAND (which writes runtime.stats_file =
# STATS_FILE), then checks that every line of the file is a JSON object, that every kind in the comma list
# KINDS appears, and that the `window` lines' job lists place ops of every stage in the comma list STAGES
# ("-": none asked for).
set -euo pipefail
stats=$1 kinds=$2 stages=$3
shift 3
rm -f "$stats"
"$@" >/dev/null
py=/usr/bin/python3
[[ -x $py ]] || py=python3
"$py" - "$stats" "$kinds" "$stages" <<'PY'
import json, sys
path, kinds = sys.argv[1], sys.argv[2].split(",")
stages = [] if sys.argv[3] == "-" else sys.argv[3].split(",")
seen, placed = set(), set()
with open(path) as f:
    for n, line in enumerate(f, 1):
        try:
            obj = json.loads(line)
        except ValueError as e:
            sys.exit(f"{path}:{n}: not JSON ({e}): {line[:160]}")
        if not isinstance(obj, dict) or "kind" not in obj:
            sys.exit(f"{path}:{n}: not an object with a kind: {line[:160]}")
        seen.add(obj["kind"])
        if obj["kind"] == "window":
            for job in obj["jobs"]:
                placed.add(job["stage"])
missing = [k for k in kinds if k not in seen]
if missing:
    sys.exit(f"{path}: no line of kind {', '.join(missing)} (saw {', '.join(sorted(seen))})")
missing = [s for s in stages if s not in placed]
if missing:
    sys.exit(f"{path}: no window places a {', '.join(missing)} op (placed: {', '.join(sorted(placed))})")
print(f"{path}: every line is JSON; kinds {', '.join(sorted(seen))}; stages placed {', '.join(sorted(placed))}")
PY
