#!/usr/bin/env bash
# Scaling sweep: submits one Ferry job per (node count, ranks per node), waits for all of them, and collects
# every job's per-epoch table (docs/runtime.md, Figures) into one CSV.
#
#   FERRY_CONFIG=$PWD/job.toml slurm/scaling_sweep.sh --nodes "1 2 4 8" --ranks-per-node "4 8" -- -p batch -A proj
#
# Options:
#   -n, --nodes "N..."            node counts                     default: "1 2"
#   -r, --ranks-per-node "K..."   tasks per node                  default: "4"
#   -t, --template FILE           sbatch template                 default: multi_node.sbatch beside this script
#   -o, --out-dir DIR             job outputs and summary.csv     default: ./ferry-sweep-DATE-TIME
#   -w, --timeout S               give up (and scancel) after S seconds   default: 3600
#       --poll S                  seconds between state checks    default: 5
#       --parallel                let the jobs overlap (default: one at a time, --dependency=singleton, so
#                                 runs do not share the file system with each other)
#       --model "ARGS"            add the performance model's prediction (perf/model/model.py) beside each
#                                 measured epoch: ARGS describe the dataset, e.g. "--samples 1281167
#                                 --raw-bytes 110000 --entry-bytes 110000 --step-ms 100"; the layout comes from
#                                 each job (nodes, tasks, FERRY_CACHE_SERVERS_PER_NODE, FERRY_TRANSFORMERS),
#                                 batch, epochs and cache_bytes from FERRY_CONFIG. Default: no model columns.
#       --model-inputs FILE       measured costs              default: perf/model/inputs/here.json
#       --model-profile FILE      fabric profile              default: perf/model/profiles/ib_hdr200.json
#       --shards auto|D           the pipeline's directory shards, one randomizer each: D > 1 passes
#                                 --runtime.randomizers D --runtime.directory_shards D to the job (after
#                                 FERRY_ARGS); auto (needs --model): the model's rule per job, the fewest D
#                                 (1, 2, 4, ... 64) with which the randomizer bounds no epoch, each shard
#                                 taking a consumer's rank (perf/model/model.py --choose-shards). Default:
#                                 none passed (the config's randomizers)
#   -- ARGS...                    passed to every sbatch (partition, account, --time, --exclusive ...)
# The environment reaches the jobs (sbatch --export=ALL): FERRY_BIN_DIR, FERRY_CONFIG, FERRY_ARGS,
# FERRY_SRUN_MPI, FERRY_CACHE_SERVERS_PER_NODE, FERRY_TRANSFORMERS (see the template's header).
#
# CSV columns: job_id, nodes, ranks_per_node, tasks, state, exit_code, then one row per pipeline and epoch:
# pipeline, epoch, samples, samples_per_s, hit_rate_pct, hdf5_mib, hdf5_reads, wait_s, prep_s, digest, and with
# --model: model_samples_per_s, model_hit_rate_pct, model_hdf5_mib, model_bound (one pipeline's prediction;
# the model needs Python >= 3.11 for FERRY_CONFIG, FERRY_MODEL_PYTHON picks the interpreter), and with
# --shards: directory_shards (the D the job ran with; the model's prediction is for that D).
# A job that printed no table still gets one row (state and exit code, empty figures).
# Exit status: 0 when every job completed with exit code 0, 1 otherwise, 2 on a usage error.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
nodes="1 2"
ranks_per_node="4"
template=$here/multi_node.sbatch
out_dir=ferry-sweep-$(date +%Y%m%d-%H%M%S)
timeout_s=3600
poll_s=5
parallel=0
sbatch_args=()
model_args=
model_inputs=$here/../perf/model/inputs/here.json
model_profile=$here/../perf/model/profiles/ib_hdr200.json
shards=

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
  case $1 in
    -n|--nodes) nodes=$2; shift 2 ;;
    -r|--ranks-per-node) ranks_per_node=$2; shift 2 ;;
    -t|--template) template=$2; shift 2 ;;
    -o|--out-dir) out_dir=$2; shift 2 ;;
    -w|--timeout) timeout_s=$2; shift 2 ;;
    --poll) poll_s=$2; shift 2 ;;
    --parallel) parallel=1; shift ;;
    --model) model_args=$2; shift 2 ;;
    --model-inputs) model_inputs=$2; shift 2 ;;
    --model-profile) model_profile=$2; shift 2 ;;
    --shards) shards=$2; shift 2 ;;
    --) shift; sbatch_args=("$@"); break ;;
    -h|--help) usage ;;
    *) echo "scaling_sweep: unknown argument '$1'" >&2; usage ;;
  esac
done
[[ -r $template ]] || { echo "scaling_sweep: cannot read template $template" >&2; exit 2; }
for v in $nodes $ranks_per_node $timeout_s; do
  [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "scaling_sweep: '$v' is not a positive integer" >&2; exit 2; }
done
[[ -z $shards || $shards == auto || $shards =~ ^[1-9][0-9]*$ ]] ||
  { echo "scaling_sweep: --shards '$shards' is neither auto nor a positive integer" >&2; exit 2; }
[[ $shards != auto || -n $model_args ]] || { echo "scaling_sweep: --shards auto needs --model" >&2; exit 2; }
if [[ -n $model_args ]]; then
  for f in "$model_inputs" "$model_profile" "$here/../perf/model/model.py"; do
    [[ -r $f ]] || { echo "scaling_sweep: --model: cannot read $f" >&2; exit 2; }
  done
fi
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)
csv=$out_dir/summary.csv

# model NODES RANKS_PER_NODE SHARDS ARGS...: perf/model/model.py for one job's layout (what multi_node.sbatch
# starts: SHARDS randomizers, the cache servers and transformers, the rest consumers) with the dataset of
# --model and FERRY_CONFIG's batch, epochs and cache_bytes; ARGS say what to print.
model() {
  local n=$1 k=$2 d=$3 config=() args
  local servers=$((${FERRY_CACHE_SERVERS_PER_NODE:-1} * n))
  local transformers=${FERRY_TRANSFORMERS:-$((${FERRY_TRANSFORMERS_PER_NODE:-1} * n))}
  shift 3
  [[ -n ${FERRY_CONFIG:-} ]] && config=(--config "$FERRY_CONFIG")
  read -r -a args <<<"$model_args"
  "${FERRY_MODEL_PYTHON:-python3}" "$here/../perf/model/model.py" --inputs "$model_inputs" --profile "$model_profile" \
      "${config[@]}" --nodes "$n" --tasks $((n * k)) --cache-servers "$servers" --transformers "$transformers" \
      --directory-shards "$d" "$@" "${args[@]}"
}

# shards_for NODES RANKS_PER_NODE: the directory shards of one job (1 without --shards).
shards_for() {
  case $shards in
    "") echo 1 ;;
    auto) model "$1" "$2" 1 --choose-shards 64 ||
            { echo "scaling_sweep: --shards auto: the model refused $1 node(s) x $2 rank(s)" >&2; exit 2; } ;;
    *) echo "$shards" ;;
  esac
}

# Submit: one job per point; remember its parameters and output file by job ID.
declare -A job_nodes=() job_rpn=() job_out=() job_state=() job_exit=() job_shards=()
jobs=()
dependency=()
((parallel)) || dependency=(--job-name="ferry-sweep-$$" --dependency=singleton)
for n in $nodes; do
  for k in $ranks_per_node; do
    d=$(shards_for "$n" "$k")
    job_args=${FERRY_ARGS:-}
    ((d == 1)) || job_args+=" --runtime.randomizers $d --runtime.directory_shards $d"
    id=$(FERRY_ARGS=$job_args sbatch --parsable --nodes="$n" --ntasks-per-node="$k" --ntasks=$((n * k)) \
           "${dependency[@]}" --output="$out_dir/n${n}-r${k}-%j.out" "${sbatch_args[@]}" "$template")
    id=${id%%;*}   # --parsable prints "ID" or "ID;CLUSTER"
    jobs+=("$id")
    job_nodes[$id]=$n job_rpn[$id]=$k job_out[$id]=$out_dir/n${n}-r${k}-$id.out job_shards[$id]=$d
    echo "scaling_sweep: job $id: $n node(s) x $k rank(s), $d directory shard(s)" >&2
  done
done

# state_of ID: prints "STATE EXIT" from scontrol ("UNKNOWN -" once the controller has forgotten the job).
state_of() {
  local line
  line=$(scontrol show job -o "$1" 2>/dev/null) || { echo "UNKNOWN -"; return; }
  local state=${line#*JobState=} code=${line#*ExitCode=}
  echo "${state%% *} ${code%% *}"
}

deadline=$((SECONDS + timeout_s))
pending=("${jobs[@]}")
while ((${#pending[@]})); do
  still=()
  for id in "${pending[@]}"; do
    read -r state code < <(state_of "$id")
    case $state in
      PENDING|CONFIGURING|RUNNING|COMPLETING|SUSPENDED|REQUEUED|REQUEUE_HOLD|RESIZING|SIGNALING|STAGE_OUT)
        still+=("$id") ;;
      *) job_state[$id]=$state job_exit[$id]=$code
         echo "scaling_sweep: job $id: $state (exit $code)" >&2 ;;
    esac
  done
  pending=("${still[@]}")
  ((${#pending[@]})) || break
  if ((SECONDS >= deadline)); then
    echo "scaling_sweep: timeout after ${timeout_s} s; cancelling ${pending[*]}" >&2
    scancel "${pending[@]}" || true
    for id in "${pending[@]}"; do job_state[$id]=SWEEP_TIMEOUT job_exit[$id]=-; done
    break
  fi
  sleep "$poll_s"
done

# model_rows NODES RANKS_PER_NODE SHARDS: the model's "epoch,samples/s,hit %,MiB,bound" lines, ';'-joined, for
# one job's layout. Empty without --model; "error" when the model refused (its message goes to stderr).
model_rows() {
  [[ -n $model_args ]] || return 0
  model "$1" "$2" "$3" --csv | paste -sd';' || echo "error"
}

# Collect: table rows are "pipeline epoch samples samples/s NN.N% MiB reads wait prep"; the randomizer prints
# them and consumers print the digests, so lines of different ranks may interleave: match each line alone.
header="job_id,nodes,ranks_per_node,tasks,state,exit_code,pipeline,epoch,samples,samples_per_s,hit_rate_pct,hdf5_mib,hdf5_reads,wait_s,prep_s,digest"
[[ -z $model_args ]] || header+=",model_samples_per_s,model_hit_rate_pct,model_hdf5_mib,model_bound"
[[ -z $shards ]] || header+=",directory_shards"
echo "$header" >"$csv"
all_ok=1
for id in "${jobs[@]}"; do
  n=${job_nodes[$id]} k=${job_rpn[$id]}
  prefix="$id,$n,$k,$((n * k)),${job_state[$id]},${job_exit[$id]}"
  [[ ${job_state[$id]} == COMPLETED && ${job_exit[$id]} == 0:0 ]] || all_ok=0
  out=${job_out[$id]}
  [[ -r $out ]] || out=/dev/null
  awk -v prefix="$prefix" -v model="$(model_rows "$n" "$k" "${job_shards[$id]}")" -v with_model="${model_args:+1}" \
      -v shards="${shards:+,${job_shards[$id]}}" '
    BEGIN {
      m = split(model, lines, ";")
      for (i = 1; i <= m; ++i) { split(lines[i], f, ","); predicted[f[1]] = f[2] "," f[3] "," f[4] "," f[5] }
    }
    function tail(epoch) { return (with_model ? "," ((epoch in predicted) ? predicted[epoch] : ",,,") : "") shards }
    $1 == "digest" && NF == 3 { digest[$2] = $3; next }
    NF >= 9 && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ && $5 ~ /^[0-9.]+%$/ {
      sub(/%$/, "", $5)
      row[++rows] = $1; ep[rows] = $2; line[rows] = $1 "," $2 "," $3 "," $4 "," $5 "," $6 "," $7 "," $8 "," $9
    }
    END {
      if (rows == 0) { print prefix ",,,,,,,,,," (with_model ? ",,,," : "") shards; exit }
      for (i = 1; i <= rows; ++i) print prefix "," line[i] "," digest[row[i]] tail(ep[i])
    }' "$out" >>"$csv"
done
echo "scaling_sweep: ${#jobs[@]} job(s); summary: $csv" >&2
((all_ok))
