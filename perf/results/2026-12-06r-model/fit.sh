#!/bin/bash
# After run.sh: inputs_window.json = the 2026-12-06q quiet inputs with their 64x64 width rows replaced by
# every width row of this window (run.sh steps A-D, run_more.sh E-H, each run with probe share >= 0.9); refitted (cost_fit.py), then
# the stored 2026-12-06q validation runs compared again with it (validate.py --from: no run), and with each
# step's own inputs file for the spread. Chosen before the window: inputs_window.json is the model's inputs.
set -eu
WT=/work/wt-smallentry; OUT=${OUT:-/tmp/se-out}; RES=${RES:-$WT/perf/results/2026-12-06r-model}
SINCE=${SINCE:-2026-12-06 21:30}  # rows measured in the window
cd $WT
/usr/bin/python3 - "$OUT" "$RES" "$SINCE" <<'PY'
import json, sys, glob, os
out, res, since = sys.argv[1:4]
doc = json.load(open("perf/results/2026-12-06q-model/inputs_quiet.json"))
rows, left = [], []
for step in "ABCDEFGH":
    path = os.path.join(out, f"inputs_{step}.json")
    if not os.path.exists(path):
        continue
    for r in json.load(open(path))["width_calibration"]:
        if "measured" not in r or not r["measured"].endswith("UTC") or r["measured"] < since:
            continue  # the 2026-12-06q rows a step kept
        r = dict(r, step=step)
        (rows if r["load"]["share_min"] >= 0.9 else left).append(r)
left = list({(r["measured"], r["cpu_per_epoch"]): r for r in reversed(left)}.values())
seen = {}
for r in rows:  # a step copies the rows of earlier steps it did not measure: keep each run once, its first step
    seen.setdefault((r["side"], r["consumers"], r["servers"], r["cold"], r["measured"], r["cpu_per_epoch"]), r)
doc["width_calibration"] = list(seen.values())
doc["width_calibration_left_out"] = left
doc["widths_measured"] = "2026-12-06 21:30-21:45 UTC (perf/results/2026-12-06r-model/run.sh)"
json.dump(doc, open(os.path.join(res, "inputs_window.json"), "w"), indent=1)
print(f"{len(seen)} width rows kept, {len(left)} left out (probe share < 0.9)")
PY
/usr/bin/python3 perf/model/cost_fit.py --inputs $RES/inputs_window.json --out $RES/inputs_window.json > /dev/null
for v in window A B C D E F G H; do
  f=$RES/inputs_$v.json; [ $v != window ] && f=$OUT/inputs_$v.json
  [ -f $f ] || continue
  /usr/bin/python3 perf/model/validate.py --from perf/results/2026-12-06q-model/measurements.json --inputs $f \
    --out $OUT/val_$v > /dev/null 2>&1
  echo "== $v: $(grep -c . $f >/dev/null; /usr/bin/python3 -c "import json;c=json.load(open('$f'))['costs'];print('k',round(c['oversub_per_rank_per_core'],4),'w_us',round(c.get('oversub_per_wake_s',0)*1e6,3))")"
  grep "^- " $OUT/val_$v/validation.md | head -4
done
