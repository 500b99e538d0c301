#!/usr/bin/env bash
# resume_after_kill.sh DIR VICTIM CONSUMERS "MPIRUN" FERRY_RUN ARGS...
#   A job killed mid-epoch resumes from its saved state (docs/launching.md):
#   1. the uninterrupted run: MPIRUN FERRY_RUN ARGS --dump-ids DIR/full;
#   2. the same job, consumers training 20 ms per batch and saving their state after every batch
#      (--save-state DIR/state), mpirun told not to end the job when a rank dies; once consumer 0's saved
#      state is in epoch 1 (a condition, guard 120 s), rank VICTIM gets kill -9; the job must end by itself,
#      non-zero, with the loss named (docs/errors.md, "A lost rank");
#   3. a run started at the earliest saved position of the consumers (--start_epoch, --start_batch,
#      --start_dataset), --dump-ids DIR/resumed: each consumer's IDs must be the uninterrupted run's from that
#      position on, batch for batch.
set -uo pipefail
dir=$1 victim=$2 consumers=$3 mpirun=$4
shift 4
ferry=("$@")
mark="ferry-resume-test-$$"
rm -rf "$dir" && mkdir -p "$dir" || exit 1
source "$(dirname "$0")/job_pids.sh"
cleanup() {
  for pid in $(pids_of_job); do kill -9 "$pid" 2>/dev/null; done
  [[ -n ${job:-} ]] && kill -9 "$job" 2>/dev/null
}
fail() { echo "$*"; cleanup; exit 1; }

timeout -k 10 240 $mpirun "${ferry[@]}" --dump-ids "$dir/full" >"$dir/full.out" 2>&1 ||
  { cat "$dir/full.out"; fail "the uninterrupted run failed"; }

FERRY_TEST_MARK=$mark timeout -k 10 240 $mpirun --mca orte_abort_on_non_zero_status 0 "${ferry[@]}" \
  --step-ms 20 --save-state "$dir/state" >"$dir/killed.out" 2>&1 &
job=$!
# A state line's field: field NAME FILE.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" "$2" | head -1; }
for ((i = 0; ; ++i)); do  # polls for the condition; the guard only ends a job that never gets there
  [[ -s $dir/state.0 && $(field epoch "$dir/state.0") -ge 1 ]] && break
  kill -0 "$job" 2>/dev/null || { cat "$dir/killed.out"; fail "the job ended before consumer 0 reached epoch 1"; }
  ((i < 2400)) || fail "consumer 0 did not reach epoch 1 (guard: 120 s)"
  sleep 0.05
done
pid=$(rank_pid "$victim")
[[ -n $pid ]] || fail "rank $victim of the job was not found"
kill -9 "$pid"
wait "$job"
rc=$?
[[ $rc -ne 124 ]] || { cat "$dir/killed.out"; fail "the job did not end after kill -9 of rank $victim"; }
[[ $rc -ne 0 ]] || fail "the job exited 0 after rank $victim was killed"
grep -q "rank $victim (.*) on host .* was lost" "$dir/killed.out" ||
  { cat "$dir/killed.out"; fail "no rank named the loss of rank $victim"; }

# The earliest position over the consumers (every consumer resumes there; one ahead takes its last batches
# again, as a training job does when it restarts from a checkpoint of its slowest rank).
best=""
for ((c = 0; c < consumers; ++c)); do
  f="$dir/state.$c"
  [[ -s $f ]] || fail "consumer $c saved no state ($f)"
  pos="$(field epoch "$f") $(field batch "$f")"
  if [[ -z $best ]] || awk -v a="$pos" -v b="$best" 'BEGIN { split(a, x); split(b, y);
      exit !(x[1] < y[1] || (x[1] == y[1] && x[2] < y[2])) }'; then best=$pos; fi
done
read -r epoch batch <<<"$best"
dataset=$(field dataset "$dir/state.0")
timeout -k 10 240 $mpirun "${ferry[@]}" --start_epoch "$epoch" --start_batch "$batch" --start_dataset "$dataset" \
  --dump-ids "$dir/resumed" >"$dir/resumed.out" 2>&1 || { cat "$dir/resumed.out"; fail "the resumed run failed"; }
for ((c = 0; c < consumers; ++c)); do
  awk -v e="$epoch" -v b="$batch" '$2 > e || ($2 == e && $3 >= b)' "$dir/full.$c" >"$dir/rest.$c"
  [[ -s $dir/rest.$c ]] || fail "consumer $c: nothing left after epoch $epoch batch $batch"
  cmp -s "$dir/rest.$c" "$dir/resumed.$c" ||
    { diff "$dir/rest.$c" "$dir/resumed.$c" | head -5; fail "consumer $c: the resumed IDs differ"; }
done
echo "ok: rank $victim killed (exit $rc); resumed at epoch $epoch batch $batch: $(cat "$dir"/resumed.[0-9]* | wc -l)" \
  "batches, same IDs as the uninterrupted run"
rm -rf "$dir"
