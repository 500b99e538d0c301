#!/bin/bash
# The quiet window's width runs (21:30-21:45 UTC, lead's machine idle): main's build, this branch's scripts.
# run.sh's steps again while the window lasted: E the 64x64 widths, F the small ones (their spread).
set -u
WT=/work/wt-smallentry; OUT=${OUT:-/tmp/se-out}; WORK=${WORK:-/tmp/se-work}; END=$(date -u -d ${END_AT:-21:45} +%s)
SAMPLES=${SAMPLES:-53760}  # a dry run before the window: SAMPLES=3360 OUT=/tmp/se-dry/out WORK=/tmp/se-dry END_AT=...
mkdir -p $OUT/runs_E $OUT/runs_F
cd $WT
log() { echo "$(date -u +%H:%M:%S) $*" >> $OUT/run_log.txt; }
share() { /usr/bin/python3 -c "import sys; sys.path.insert(0,'perf/model'); import runs; print(f'{runs.core_share():.2f}')"; }
step() {  # name sides from-file
  local left=$(( END - $(date -u +%s) - 10 ))
  if [ $left -lt 200 ]; then log "step $1 skipped: ${left} s left"; return 1; fi
  cp $3 $OUT/inputs_$1.json
  rm -f $WORK/width_*.stats.jsonl
  log "step $1 sides $2 start (probe share $(share), load $(cut -d' ' -f1 /proc/loadavg))"
  timeout $left /usr/bin/python3 perf/model/measure_inputs.py --build /work/main/build --work $WORK \
    --out $OUT/inputs_$1.json --only widths --width-sides $2 --width-samples $SAMPLES >> $OUT/run_log.txt 2>&1
  log "step $1 rc $? (probe share $(share), load $(cut -d' ' -f1 /proc/loadavg))"
  cp $WORK/width_*.stats.jsonl $OUT/runs_$1/ 2>/dev/null
}
log "more: window start; uptime: $(uptime)"
step E 64 $OUT/inputs_D.json
step F 32,16 $OUT/inputs_E.json
log "window end; uptime: $(uptime)"
