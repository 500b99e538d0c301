#!/usr/bin/env bash
# lose_rank.sh SIGNAL RANK ROLE STATS COMMAND...
#   Runs COMMAND (an mpirun line, told not to end the job when a rank dies, writing runtime.stats_file STATS),
#   waits for the first epoch line in STATS (every rank is working) or, with STATS "setup", for every rank's
#   liveness thread (the job is in its set-up: open the datasets), sends SIGNAL (KILL or STOP) to rank RANK
#   of the job, and checks what docs/errors.md promises: every other rank prints one line naming the lost
#   rank, its role ROLE and its host, and exits; the job ends non-zero (a stopped rank too: the reporter's
#   MPI_Abort ends it). Prints the seconds from the signal to the end of the job (not asserted: the
#   machine may be loaded). A guard of 240 s ends a job that hangs, and fails the test.
set -u
signal=$1 rank=$2 role=$3 stats=$4
shift 4
mark="ferry-lose-test-$$"
err=$(mktemp)
if [[ $stats == setup ]]; then stats=$(mktemp); at=setup; else at=epoch; fi
rm -f "$stats" && touch "$stats" || exit 1
FERRY_TEST_MARK=$mark timeout -k 10 240 "$@" >/dev/null 2>"$err" &
job=$!
cleanup() {
  for pid in $(pids_of_job); do kill -9 "$pid" 2>/dev/null; done
  kill -9 "$job" 2>/dev/null
  rm -f "$err" "$stats"
}
source "$(dirname "$0")/job_pids.sh"
# ready: every rank is where the signal is to find it.
ready() {
  if [[ $at == epoch ]]; then grep -q '"kind":"epoch"' "$stats" 2>/dev/null; return; fi
  local pid r0 n=0 size=0
  r0=$(rank_pid 0)
  [[ -n $r0 ]] && size=$(tr '\0' '\n' </proc/"$r0"/environ 2>/dev/null | sed -n 's/^OMPI_COMM_WORLD_SIZE=//p')
  for pid in $(pids_of_job); do
    cat /proc/"$pid"/task/*/comm 2>/dev/null | grep -qx ferry-liveness && n=$((n + 1))
  done
  [[ ${size:-0} -gt 0 && $n -eq $size ]]
}
# Wait for that (a condition, not a duration), or for the job to end before it (a failed start is a failure,
# not a hang).
until ready; do
  if ! kill -0 "$job" 2>/dev/null; then
    echo "the job ended before the point of the signal ($at)"; cat "$err"; cleanup; exit 1
  fi
  sleep 0.2  # polls the condition above
done
size=$(tr '\0' '\n' </proc/"$(rank_pid 0)"/environ | sed -n 's/^OMPI_COMM_WORLD_SIZE=//p')
victim=$(rank_pid "$rank")
if [[ -z $victim || -z $size ]]; then echo "rank $rank of the job was not found"; cleanup; exit 1; fi
start=$(date +%s.%N)
kill -"$signal" "$victim"
# The guard (timeout above): a hang is a failure, however long the machine takes.
wait "$job"
rc=$?
end=$(date +%s.%N)
if [[ $rc -eq 124 ]]; then
  echo "the job did not end after SIG$signal of rank $rank (killed by the guard)"; cat "$err"; cleanup; exit 1
fi
fail=0
if [[ $rc -eq 0 ]]; then echo "the job exited 0 after rank $rank was lost"; fail=1; fi
for ((r = 0; r < size; ++r)); do
  [[ $r -eq $rank ]] && continue
  if ! grep -Eq "^ferry: error \(rank $r\): rank $rank \($role\) on host [^ ]+ was lost: " "$err"; then
    echo "rank $r did not print the loss of rank $rank ($role)"; fail=1
  fi
done
left=$(pids_of_job)
if [[ -n $left ]]; then echo "processes of the job left running: $left"; fail=1; fi
if [[ $fail -ne 0 ]]; then echo "--- stderr:"; cat "$err"; cleanup; exit 1; fi
line=$(grep -m1 "was lost" "$err")
printf 'ok: SIG%s of rank %s (%s): job ended (exit %s) %.1f s after the signal\n  %s\n' "$signal" "$rank" \
  "$role" "$rc" "$(awk "BEGIN { print $end - $start }")" "$line"
rm -f "$err" "$stats"
