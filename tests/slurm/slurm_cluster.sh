# Sourced by run_slurm_test.sh once its clean-up is armed: a private one-node Slurm cluster (munged, slurmctld,
# slurmd) under $tmp on a free port pair. Sets port, daemon_pids (munged, slurmctld, slurmd), SLURM_CONF and
# FERRY_SRUN_MPI, and returns with the node idle; fails (fail) otherwise.
# shellcheck shell=bash

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
