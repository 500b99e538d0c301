# Sourced by the tests that signal one rank of a running job (lose_rank.sh, resume_after_kill.sh). The job is
# started with FERRY_TEST_MARK=$mark in its environment; its ranks are found by that mark. One grep reads
# every process's environment (NUL-separated: -z) rather than a few processes forked per process, so the scan
# stays short on a loaded machine: it runs between a condition and the signal that must find the job running.
# job_envs: /proc/PID/environ of every process that carries the mark (mpirun and timeout carry it too).
job_envs() {
  grep -lszx "FERRY_TEST_MARK=$mark" /proc/[0-9]*/environ
}
# pid_of_env /proc/PID/environ: PID.
pid_of_env() {
  local p=${1#/proc/}
  echo "${p%/environ}"
}
# ranks_with ENTRY: the PIDs of the job's ranks whose environment holds ENTRY (a regex for a whole entry).
ranks_with() {
  local env
  for env in $(job_envs); do
    grep -qszx "$1" "$env" && pid_of_env "$env"
  done
  return 0
}
# pids_of_job: the PIDs of the job's ranks still running.
pids_of_job() {
  ranks_with "OMPI_COMM_WORLD_RANK=[0-9]*"
}
# rank_pid RANK: the PID of rank RANK of the job (one: a child a rank forked would carry its environment too).
rank_pid() {
  ranks_with "OMPI_COMM_WORLD_RANK=$1" | head -n 1
}
