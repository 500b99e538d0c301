#!/usr/bin/env bash
# run_slurm_test.sh FERRY FERRY_SERVE FERRY_GEN MPIEXEC
#
# Ferry under a real Slurm: stands up a private one-node cluster as root (munged, slurmctld, slurmd; every
# file under one temporary folder, free ports, nothing written to /etc or /var), then
#   1. sbatch slurm/single_node.sbatch, 6 tasks              (library mode, 3 consumers)
#   2. sbatch slurm/mpmd.sbatch, 5 tasks                     (srun --multi-prog: 3 ferry-serve + 2 ferry run)
#   3. srun --multi-prog directly, 6 tasks                   (no batch script: 3 ferry-serve + 3 ferry run)
#   4. slurm/scaling_sweep.sh over slurm/multi_node.sbatch    (1 node x 4 and 5 ranks, one cache server per node;
#      the model's columns and its choice of directory shards), and again with --shards 2 (1 node x 5 ranks)
#   5. sbatch slurm/single_node.sbatch with a missing file   (must fail, not hang)
# and checks exit codes, states and that every job's `digest` lines equal `mpirun -n C ferry local` with the
# same config and C consumers: the same samples and bytes, each exactly once per epoch.
#
# Exit 77 (ctest SKIP_RETURN_CODE) when Slurm or munge is not installed or when not root. Every daemon started
# here is stopped by PID on exit (trap), leftover job processes are found by their environment and killed by
# PID, and every wait is bounded. FERRY_SLURM_KEEP=1 keeps the temporary folder; it is kept on failure.
# FERRY_SRUN_MPI picks the srun MPI plugin (default: pmix).
set -uo pipefail

if (($# != 4)); then
  echo "usage: $0 FERRY FERRY_SERVE FERRY_GEN MPIEXEC" >&2
  exit 2
fi
ferry=$(realpath -- "$1") ferry_serve=$(realpath -- "$2") ferry_gen=$(realpath -- "$3") mpiexec=$4
source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
templates=$source_dir/slurm

skip() { echo "SKIP: $*"; exit 77; }
for tool in slurmctld slurmd srun sbatch squeue scontrol scancel sinfo munged munge unmunge; do
  command -v "$tool" >/dev/null || skip "$tool not found (Debian: apt-get install slurm-wlm munge)"
done
((EUID == 0)) || skip "starting slurmd and munged needs root"
for bin in "$ferry" "$ferry_serve" "$ferry_gen" "$mpiexec"; do
  [[ -x $(command -v "$bin") ]] || { echo "FAIL: '$bin' is not an executable"; exit 1; }
done

# An outer Slurm job's variables would make srun and sbatch believe they run inside one of its allocations.
while IFS='=' read -r name _; do
  [[ $name == SLURM_* || $name == SLURMD_* ]] && unset "$name"
done < <(env)

tmp=$(mktemp -d /tmp/ferry-slurm-test.XXXXXX)
chmod 755 "$tmp"   # munged refuses a socket in a folder that others cannot search
node=$(hostname -s)
started=$SECONDS
budget=${FERRY_SLURM_TEST_BUDGET:-230}   # seconds for everything but the final clean-up (at most ~90 s; ctest allows 360)
in_flight=         # PID of the bounded command running now (see bounded)
daemon_pids=()     # started here, stopped in reverse order

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
exec 3>&1 4>&2   # the test's own stdout and stderr, for clean-up (children get 3>&- 4>&-)
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free TCP port pair (slurmctld, slurmd): not the defaults, so a site's Slurm on this machine is untouched.
used_ports=$(ss -Htan 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }' | sort -u)
port=
for ((try = 0; try < 100; ++try)); do
  candidate=$((20000 + RANDOM % 30000))
  grep -qxE "$candidate|$((candidate + 1))" <<<"$used_ports" || { port=$candidate; break; }
done
[[ -n $port ]] || fail "no free port pair found"
# Job IDs of their own, too: Open MPI names its shared-memory files after the PMIx namespace, which is
# "slurm.pmix.JOB.STEP"; two clusters on one machine that both run job 1 would share them (a crash or a hang).
# Clusters running at the same time have different ports, so they get disjoint ranges of 1000 IDs.
first_job_id=$(((port - 20000) * 1000 + 1000))

# --- munge: a key of our own (Debian's /etc/munge/munge.key belongs to the munge user, and munged run as
# root refuses a key file it does not own), a private socket.
if command -v mungekey >/dev/null; then
  mungekey --create --keyfile="$tmp/munge.key" || fail "mungekey failed"
else
  (umask 077 && head -c 1024 /dev/urandom >"$tmp/munge.key") || fail "cannot write a munge key"
fi
chmod 600 "$tmp/munge.key"
munged --foreground --key-file="$tmp/munge.key" --socket="$tmp/munge.sock" \
  --pid-file="$tmp/munged.pid" --log-file="$tmp/munged.log" --seed-file="$tmp/munged.seed" \
  >"$tmp/munged.out" 2>&1 3>&- 4>&- &
daemon_pids+=($!)
munge_works() { munge -n -S "$tmp/munge.sock" | unmunge -S "$tmp/munge.sock"; }
wait_until 15 "munged (log: $tmp/munged.out)" munge_works
log "munged up (pid ${daemon_pids[0]})"

# --- Slurm: a one-node cluster. The node claims 8 CPUs, more than this machine may have:
# SlurmdParameters=config_overrides makes slurmd accept the configured figures instead of marking the node
# invalid. proctrack/linuxproc and task/none need no cgroups (containers, CI machines).
mkdir -p "$tmp/state" "$tmp/spool" "$tmp/jobtmp"
: >"$tmp/plugstack.conf"   # no SPANK plugins from /etc/slurm/plugstack.conf.d
# The pmix plugin makes a folder per step, named by job and step ID, under TmpFS (default /tmp); job IDs
# start at 1 in every fresh cluster, so two runs would share names: keep them in our folder.
echo "PMIxCliTmpDirBase=$tmp/jobtmp" >"$tmp/mpi.conf"
cat >"$tmp/slurm.conf" <<EOF
ClusterName=ferrytest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$tmp/munge.sock
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
TmpFS=$tmp/jobtmp
PlugStackConfig=$tmp/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SwitchType=switch/none
MpiDefault=none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmdParameters=config_overrides
ReturnToService=2
FirstJobId=$first_job_id
KillWait=5
MinJobAge=300
NodeName=$node NodeAddr=127.0.0.1 CPUs=8 State=UNKNOWN
PartitionName=ferry Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$tmp/slurm.conf
# PMIx between a task and slurmstepd: the native security module on both sides, whatever munged (if any)
# listens on the default socket.
export PMIX_MCA_psec=native
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

slurmctld -D -f "$SLURM_CONF" >"$tmp/slurmctld.out" 2>&1 3>&- 4>&- &
daemon_pids+=($!)
slurmd -D -f "$SLURM_CONF" >"$tmp/slurmd.out" 2>&1 3>&- 4>&- &
daemon_pids+=($!)

# node_idle: the node is idle; a node left down, drained or invalid is resumed once.
resumed=0
node_idle() {
  local state
  state=$(sinfo -h -n "$node" -o %T 2>/dev/null) || return 1
  [[ $state == idle ]] && return 0
  if [[ $state =~ down|drain|inval|fail ]] && ((resumed == 0)); then
    resumed=1
    scontrol update nodename="$node" state=resume >/dev/null 2>&1
  fi
  return 1
}
daemons_alive() {
  local pid
  for pid in "${daemon_pids[@]}"; do kill -0 "$pid" 2>/dev/null || return 1; done
}
cap_to 60
deadline=$((SECONDS + cap))
until node_idle; do
  daemons_alive || fail "a daemon exited during start-up (see $tmp/*.out)"
  ((SECONDS < deadline)) || fail "node $node not idle after 60 s: $(sinfo -h -N -o '%N %T %E' 2>&1)"
  sleep 0.2
done
log "slurmctld (pid ${daemon_pids[1]}) and slurmd (pid ${daemon_pids[2]}) up on ports $port-$((port + 1)); node $node idle"

srun_mpi=${FERRY_SRUN_MPI:-pmix}
srun --mpi=list 2>&1 | grep -qw -- "$srun_mpi" ||
  fail "srun offers no MPI plugin '$srun_mpi': $(srun --mpi=list 2>&1 | tr -s '\n\t' '  ')"
export FERRY_SRUN_MPI=$srun_mpi

# --- data, config and the reference digests (LocalLoader on C consumer ranks)
"$ferry_gen" image --out "$tmp/images.h5" --samples 192 --height 8 --width 8 --chunk 16 >"$tmp/gen.out" 2>&1 ||
  fail "ferry-gen: $(cat "$tmp/gen.out")"
cat >"$tmp/job.toml" <<'EOF'
# Two pipelines on one dataset: they share cache entries (same prepare stage), not their order.
[runtime]
randomizers = 1
cache_servers = 1
transformers = 1

[[pipeline]]
name = "train"
seed = 7
epochs = 2
batch_size = 4
[pipeline.dataset]
files = ["images.h5"]
fields = { image = "/images", label = "/labels" }
[pipeline.prepare]
image = "cast(scale=0.00392157) | hwc_to_chw"
[pipeline.augment]
image = "random_flip"

[[pipeline]]
name = "eval"
seed = 11
epochs = 2
batch_size = 8
[pipeline.dataset]
files = ["images.h5"]
fields = { image = "/images", label = "/labels" }
[pipeline.prepare]
image = "cast(scale=0.00392157) | hwc_to_chw"
EOF
export FERRY_BIN_DIR=$tmp/bin FERRY_CONFIG=$tmp/job.toml
# The templates find ferry and ferry-serve in one folder; the build keeps them wherever CMake put them.
mkdir -p "$FERRY_BIN_DIR"
ln -s "$ferry" "$FERRY_BIN_DIR/ferry"
ln -s "$ferry_serve" "$FERRY_BIN_DIR/ferry-serve"

digests_of() { grep -E '^digest [^ ]+ [0-9a-f]+$' "$1" | sort; }
declare -A reference=()
for consumers in 1 2 3; do
  bounded 60 "$mpiexec" --oversubscribe -n "$consumers" "$ferry" local --config "$FERRY_CONFIG" --digest \
    >"$tmp/local-$consumers.out" 2>"$tmp/local-$consumers.err" ||
    fail "mpirun -n $consumers ferry local: $(tail -n 5 "$tmp/local-$consumers.err")"
  reference[$consumers]=$(digests_of "$tmp/local-$consumers.out")
  [[ $(wc -l <<<"${reference[$consumers]}") == 2 ]] || fail "ferry local printed no digest per pipeline"
done
log "reference digests from ferry local with 1, 2 and 3 consumers"

# expect_digests WHAT FILE CONSUMERS
expect_digests() {
  local got
  got=$(digests_of "$2")
  [[ $got == "${reference[$3]}" ]] ||
    fail "$1: digests differ from ferry local with $3 consumer(s):"$'\n'"${reference[$3]}"$'\n--- got:\n'"$got"$'\n--- output:\n'"$(cat "$2")"
}

# run_batch SECONDS TEMPLATE SBATCH_ARGS...: submits, waits; sets job_id, job_state, job_exit, job_out.
run_batch() {
  local limit=$1 template=$2
  shift 2
  job_id=$(sbatch --parsable --output="$tmp/%x-%j.out" "$@" "$templates/$template") || fail "sbatch $template failed"
  job_id=${job_id%%;*}
  cap_to "$limit"
  local deadline=$((SECONDS + cap)) line
  while :; do
    line=$(scontrol show job -o "$job_id" 2>/dev/null)
    job_state=${line#*JobState=} job_state=${job_state%% *}
    case $job_state in
      PENDING|CONFIGURING|RUNNING|COMPLETING) ;;
      *) break ;;
    esac
    ((SECONDS < deadline)) || fail "job $job_id ($template) still $job_state after ${limit} s"
    sleep 0.3
  done
  job_exit=${line#*ExitCode=} job_exit=${job_exit%% *}
  job_out=${line#*StdOut=} job_out=${job_out%% *}
}

# 1. single node, library mode
run_batch 60 single_node.sbatch --ntasks=6
[[ $job_state == COMPLETED && $job_exit == 0:0 ]] ||
  fail "single_node.sbatch: job $job_id $job_state, exit $job_exit:"$'\n'"$(cat "$job_out")"
expect_digests "single_node.sbatch (6 tasks)" "$job_out" 3
log "single_node.sbatch, 6 tasks: job $job_id COMPLETED, digests equal ferry local with 3 consumers"

# 2. MPMD from a batch script (srun --multi-prog inside)
run_batch 60 mpmd.sbatch --ntasks=5
[[ $job_state == COMPLETED && $job_exit == 0:0 ]] ||
  fail "mpmd.sbatch: job $job_id $job_state, exit $job_exit:"$'\n'"$(cat "$job_out")"
grep -q "ferry-serve on ranks 0-2" "$job_out" || fail "mpmd.sbatch did not compute 3 service ranks:"$'\n'"$(cat "$job_out")"
expect_digests "mpmd.sbatch (5 tasks)" "$job_out" 2
log "mpmd.sbatch, 5 tasks (3 ferry-serve): job $job_id COMPLETED, digests equal ferry local with 2 consumers"

# 3. MPMD with srun alone: srun makes the allocation itself
cat >"$tmp/multi.conf" <<EOF
# srun --multi-prog: ranks 0-2 serve, the rest train
0-2 '$ferry_serve' --config '$FERRY_CONFIG'
*   '$ferry' run --config '$FERRY_CONFIG' --digest
EOF
bounded 60 srun --mpi="$srun_mpi" --kill-on-bad-exit=1 -n 6 --multi-prog "$tmp/multi.conf" \
  >"$tmp/srun-mpmd.out" 2>"$tmp/srun-mpmd.err"
rc=$?
((rc == 0)) || fail "srun --multi-prog exited $rc:"$'\n'"$(cat "$tmp/srun-mpmd.out" "$tmp/srun-mpmd.err")"
expect_digests "srun --multi-prog (6 tasks)" "$tmp/srun-mpmd.out" 3
log "srun -n 6 --multi-prog (3 ferry-serve): exit 0, digests equal ferry local with 3 consumers"

# 4. the scaling sweep over the multi-node template (one node here)
# --model: the performance model's prediction beside each epoch (8x8x3 u8 + int32 label; cast: f32);
# --shards auto: the model's rule picks the directory shards of each job (1 here: the randomizer binds no epoch)
FERRY_MODEL_PYTHON=/usr/bin/python3 bounded 100 "$templates/scaling_sweep.sh" --nodes 1 --ranks-per-node "4 5" \
  --out-dir "$tmp/sweep" --timeout 90 --poll 0.5 --model "--samples 192 --raw-bytes 196 --entry-bytes 772" \
  --shards auto >"$tmp/sweep.out" 2>&1
rc=$?
csv=$tmp/sweep/summary.csv
((rc == 0)) || fail "scaling_sweep.sh exited $rc:"$'\n'"$(cat "$tmp/sweep.out" "$csv" 2>/dev/null)"
rows=$(tail -n +2 "$csv" | grep -c ',COMPLETED,0:0,')
[[ $rows == 8 ]] || fail "scaling_sweep.sh: expected 8 rows (2 jobs x 2 pipelines x 2 epochs), got $rows:"$'\n'"$(cat "$csv")"
for k in 4 5; do
  # ranks per node k: 1 randomizer, 1 cache server, 1 transformer, k-3 consumers
  out=$(ls "$tmp"/sweep/n1-r$k-*.out)
  expect_digests "multi_node.sbatch (1 node x $k)" "$out" $((k - 3))
  # the CSV's digest column is what the job printed
  while IFS=, read -r pipeline digest; do
    grep -qxF "digest $pipeline $digest" <<<"${reference[$((k - 3))]}" || fail "summary.csv: $pipeline $digest (r$k) is not the job's digest"
  done < <(awk -F, -v k="$k" 'NR > 1 && $3 == k { print $7 "," $16 }' "$csv")
done
# the model's columns: its hit rate is 0 in epoch 0 and 100 % in epoch 1 (the cache holds the set)
head -1 "$csv" | grep -q ',model_samples_per_s,model_hit_rate_pct,model_hdf5_mib,model_bound,directory_shards$' ||
  fail "summary.csv has no model and shard columns: $(head -1 "$csv")"
bad=$(awk -F, 'NR > 1 && !(($8 == 0 && $18 == "0.0") || ($8 == 1 && $18 == "100.0")) || NR > 1 && $21 != 1' "$csv")
[[ -z $bad ]] || fail "summary.csv: model hit rate not 0 % / 100 % in epochs 0 / 1, or shards not 1:"$'\n'"$bad"
log "scaling_sweep.sh: 2 jobs COMPLETED, 8 CSV rows, digests equal ferry local with 1 and 2 consumers, model columns"
# --shards 2: the job runs 2 randomizers, each a directory shard, so 5 ranks leave 1 consumer
bounded 60 "$templates/scaling_sweep.sh" --nodes 1 --ranks-per-node 5 --out-dir "$tmp/sweep2" --timeout 50 \
  --poll 0.5 --shards 2 >"$tmp/sweep2.out" 2>&1
rc=$?
csv=$tmp/sweep2/summary.csv
((rc == 0)) || fail "scaling_sweep.sh --shards 2 exited $rc:"$'\n'"$(cat "$tmp/sweep2.out" "$csv" 2>/dev/null)"
[[ $(awk -F, 'NR > 1 && $5 == "COMPLETED" && $17 == 2' "$csv" | wc -l) == 4 ]] ||
  fail "scaling_sweep.sh --shards 2: expected 4 rows with 2 shards:"$'\n'"$(cat "$csv")"
expect_digests "multi_node.sbatch (1 node x 5, 2 directory shards)" "$(ls "$tmp"/sweep2/n1-r5-*.out)" 1
log "scaling_sweep.sh --shards 2: job COMPLETED, digests equal ferry local with 1 consumer"

# 5. a failing job ends (FAILED, non-zero exit) instead of hanging
FERRY_ARGS="--dataset.files $tmp/missing.h5" run_batch 60 single_node.sbatch --ntasks=4
[[ $job_state == FAILED && $job_exit != 0:0 ]] || fail "a job with a missing file: $job_state, exit $job_exit"
grep -q "missing.h5" "$job_out" || fail "the failed job's output does not name the missing file:"$'\n'"$(cat "$job_out")"
log "single_node.sbatch with a missing file: job $job_id FAILED (exit $job_exit), message names the file"

# Every step's processes must be gone before the daemons stop (cleanup checks and kills what is left).
cap_to 15
deadline=$((SECONDS + cap))
until no_jobs_left && no_job_processes; do
  ((SECONDS < deadline)) || fail "job processes still running: $(cluster_pids | tr '\n' ' ')"
  sleep 0.2
done
log "PASS"
