#!/usr/bin/env bash
# stats_json.sh STATS_FILE KINDS COMMAND...: runs COMMAND (which writes runtime.stats_file = STATS_FILE), then
# checks that every line of the file is a JSON object and that every kind in the comma list KINDS appears.
set -euo pipefail
stats=$1 kinds=$2
shift 2
rm -f "$stats"
"$@" >/dev/null
py=/usr/bin/python3
[[ -x $py ]] || py=python3
"$py" - "$stats" "$kinds" <<'PY'
import json, sys
path, kinds = sys.argv[1], sys.argv[2].split(",")
seen = set()
with open(path) as f:
    for n, line in enumerate(f, 1):
        try:
            obj = json.loads(line)
        except ValueError as e:
            sys.exit(f"{path}:{n}: not JSON ({e}): {line[:160]}")
        if not isinstance(obj, dict) or "kind" not in obj:
            sys.exit(f"{path}:{n}: not an object with a kind: {line[:160]}")
        seen.add(obj["kind"])
missing = [k for k in kinds if k not in seen]
if missing:
    sys.exit(f"{path}: no line of kind {', '.join(missing)} (saw {', '.join(sorted(seen))})")
print(f"{path}: every line is JSON; kinds {', '.join(sorted(seen))}")
PY
