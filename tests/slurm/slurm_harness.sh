# Sourced by run_slurm_test.sh: its bounded waits and its clean-up. Uses the caller's started, budget, tmp,
# in_flight and daemon_pids; the clean-up stops what the test started, by PID, and keeps tmp on failure.
# shellcheck shell=bash

log() { printf '[slurm-test %3ds] %s\n' $((SECONDS - started)) "$*"; }
fail() {
  echo "FAIL: $*"
  exit 1
}

# cap_to SECONDS: sets cap to SECONDS, or to what is left of the test's budget when that is less; fails
# when nothing is left.
cap_to() {
  local left=$((started + budget - SECONDS))
  ((left > 0)) || fail "the test's budget of ${budget} s is spent"
  cap=$(($1 < left ? $1 : left))
}

# bounded SECONDS COMMAND...: runs COMMAND under timeout(1), capped by the budget, and returns its status.
# It runs in the background and is waited for, so a signal to this script is handled at once (and clean-up
# stops the command by PID: timeout passes SIGTERM on to it).
bounded() {
  cap_to "$1"
  shift
  timeout "$cap" "$@" 3>&- 4>&- &
  in_flight=$!
  wait "$in_flight"
  local rc=$?
  in_flight=
  return "$rc"
}

# wait_until SECONDS WHAT COMMAND...: polls COMMAND every 0.2 s; fails with WHAT when time runs out.
wait_until() {
  cap_to "$1"
  local limit=$cap what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "timed out after ${limit} s waiting for $what"
    sleep 0.2
  done
}

# stop_pid PID NAME: TERM, up to 10 s, then KILL. Only PIDs this script started reach here.
stop_pid() {
  local pid=$1 name=$2 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 50; ++i)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    sleep 0.2
  done
  echo "warning: $name (pid $pid) ignored SIGTERM; killing it"
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

# Processes of this cluster's jobs, found by their environment: slurmd starts slurmstepd with this cluster's
# SLURM_CONF (and nothing else of its own environment), the tasks inherit SLURM_CONF and a SLURM_JOB_ID. This
# script and its helpers have SLURM_CONF but no SLURM_JOB_ID (removed above) and are not slurmstepd; the
# daemons are known by PID.
cluster_pids() {
  local dir pid env comm
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    env=$(tr '\0' '\n' 2>/dev/null <"$dir/environ") || continue   # gone, a zombie, or a kernel thread
    grep -qxF "SLURM_CONF=$tmp/slurm.conf" <<<"$env" || continue
    comm=$(cat 2>/dev/null "$dir/comm")
    if [[ $comm == slurmstepd ]] || grep -q '^SLURM_JOB_ID=' <<<"$env"; then
      echo "$pid"
    fi
  done
}

controller_alive() { ((${#daemon_pids[@]} >= 2)) && kill -0 "${daemon_pids[1]}" 2>/dev/null; }
no_jobs_left() { [[ -z $(timeout 10 squeue -h -o %i 2>/dev/null) ]]; }
no_job_processes() { [[ -z $(cluster_pids) ]]; }

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  exec 1>&3 2>&4   # a signal may arrive inside a command whose output goes to a file
  if [[ -n $in_flight ]]; then
    kill -TERM "$in_flight" 2>/dev/null
    wait "$in_flight" 2>/dev/null
  fi
  if ((${#daemon_pids[@]})); then
    # Jobs first (their steps end cleanly while slurmd is still there), then the daemons, newest first.
    local ids deadline
    controller_alive && ids=$(timeout 10 squeue -h -o %i 2>/dev/null)
    if [[ -n ${ids:-} ]]; then
      log "cancelling jobs still known to the controller: $(tr '\n' ' ' <<<"$ids")"
      # shellcheck disable=SC2086
      timeout 10 scancel $ids 2>/dev/null
      deadline=$((SECONDS + 15))
      until no_jobs_left || ((SECONDS >= deadline)); do sleep 0.2; done
    fi
    deadline=$((SECONDS + 10))
    until no_job_processes || ((SECONDS >= deadline)); do sleep 0.2; done
    local i
    for ((i = ${#daemon_pids[@]} - 1; i >= 0; --i)); do
      stop_pid "${daemon_pids[i]}" "$(ps -o comm= -p "${daemon_pids[i]}" 2>/dev/null || echo daemon)"
    done
    local strays
    strays=$(cluster_pids)
    if [[ -n $strays ]]; then
      echo "stray processes of the test cluster, killed: $(ps -o pid=,comm= -p "$(paste -sd, <<<"$strays")" | tr -s ' \n' '  ')"
      # shellcheck disable=SC2086
      kill -KILL $strays 2>/dev/null
      ((status == 0)) && status=1
    fi
  fi
  if ((status != 0 && status != 77)); then
    for f in slurmctld.log slurmd.log munged.log; do
      [[ -s $tmp/$f ]] && { echo "--- last lines of $tmp/$f"; tail -n 15 "$tmp/$f"; }
    done
    echo "kept $tmp for inspection"
  elif [[ ${FERRY_SLURM_KEEP:-0} == 1 ]]; then
    echo "kept $tmp"
  else
    rm -rf "$tmp"
  fi
  log "done (exit $status)"
  exit "$status"
}
