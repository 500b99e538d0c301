#!/usr/bin/env bash
# kill_slab_holder.sh DIR MIN_BYTES STATS RANK COMMAND...
#   Runs COMMAND (an mpirun line writing runtime.stats_file STATS) with UCX's POSIX shared-memory files in DIR
#   (UCX_POSIX_DIR, a private folder), waits for the first epoch line in STATS (every rank is serving), kills
#   rank RANK of that job with SIGKILL (mpirun then ends the job), and fails when a file of MIN_BYTES or more
#   is left in DIR: a cache slab that outlived its job.
set -u
dir=$1 min=$2 stats=$3 rank=$4
shift 4
mark="ferry-kill-test-$$"
rm -rf "$dir" "$stats" && mkdir -p "$dir" || exit 1
touch "$stats"
UCX_POSIX_DIR=$dir FERRY_TEST_MARK=$mark timeout 240 "$@" >/dev/null 2>&1 &
job=$!
# Wait for the first epoch line (a condition, not a duration); the tail is ended once it is seen.
(tail -n +1 -F "$stats" 2>/dev/null & echo $! >"$dir.tail"; wait) | grep -m1 -q '"kind":"epoch"'
kill "$(cat "$dir.tail")" 2>/dev/null
rm -f "$dir.tail"
source "$(dirname "$0")/job_pids.sh"
victim=$(rank_pid "$rank")
if [[ -z $victim ]]; then echo "rank $rank of the job was not found"; kill "$job"; wait "$job"; exit 1; fi
kill -9 "$victim"
wait "$job"
rc=$?
left=$(find "$dir" -type f -size +"$((min - 1))"c -printf '%p %s bytes\n')
rm -rf "$dir" "$stats"
if [[ $rc -eq 0 ]]; then echo "the job exited 0 after rank $rank was killed"; exit 1; fi
if [[ -n $left ]]; then
  echo "shared-memory file(s) left behind after kill -9 of rank $rank:"; echo "$left"
  exit 1
fi
echo "ok: rank $rank killed, job exit $rc, no slab file left"
