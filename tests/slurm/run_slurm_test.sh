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
# Its parts: slurm_harness.sh (bounded waits, clean-up) and slurm_cluster.sh (the cluster), sourced below.
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

# shellcheck source=tests/slurm/slurm_harness.sh
source "$source_dir/tests/slurm/slurm_harness.sh"
exec 3>&1 4>&2   # the test's own stdout and stderr, for clean-up (children get 3>&- 4>&-)
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=tests/slurm/slurm_cluster.sh
source "$source_dir/tests/slurm/slurm_cluster.sh"

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
