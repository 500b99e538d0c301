# Sourced by the tests that signal one rank of a running job (lose_rank.sh, resume_after_kill.sh). The job is
# started with FERRY_TEST_MARK=$mark in its environment; its ranks are found by that mark.
# pids_of_job: the PIDs of the job's ranks still running.
pids_of_job() {
  exec 2>/dev/null  # processes come and go while we look
  for env in /proc/[0-9]*/environ; do
    if tr '\0' '\n' <"$env" 2>/dev/null | grep -qx "FERRY_TEST_MARK=$mark"; then
      local r
      r=$(tr '\0' '\n' <"$env" 2>/dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')
      [[ -n $r ]] && echo "$(basename "$(dirname "$env")")"
    fi
  done
}
# rank_pid RANK: the PID of rank RANK of the job.
rank_pid() {
  exec 2>/dev/null
  for env in /proc/[0-9]*/environ; do
    if tr '\0' '\n' <"$env" 2>/dev/null | grep -qx "FERRY_TEST_MARK=$mark" &&
       tr '\0' '\n' <"$env" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1"; then
      basename "$(dirname "$env")"
    fi
  done
}
