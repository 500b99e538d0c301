#!/usr/bin/env bash
# bad_samples.sh PREFIX SAMPLES EPOCHS CORRUPT "COMMAND" "COMMAND" ...
#   bad_samples = skip end to end. Runs each command line (ferry local or ferry run, through bash) with
#   --digest and --dump-ids PREFIX.<k> (ferry run also with --runtime.stats_file PREFIX.<k>.jsonl) and checks:
#   - every one exits 0 and prints the same digests (ferry run delivers the bytes ferry local delivers);
#   - per epoch, every ID in [0, SAMPLES) but the comma list CORRUPT arrives exactly once over the consumers,
#     and no corrupt one arrives;
#   - per epoch, the line "ferry: pipeline 'default' epoch E: N sample(s) skipped (bad_samples = skip)" with
#     N = the number of corrupt IDs (the totals of every consumer);
#   - the warnings name file, dataset and sample: their sample IDs are the corrupt ones, each once per rank;
#   - ferry run: the consumers' consumer_epoch lines and the epoch lines count EPOCHS * N skipped;
#   - with FERRY_HEAD_SKIPS=1 in the environment (every augment head on the transformers): the transformers'
#     serve lines ran the head of as many batches as the consumers got past it (more than 0), and count the
#     EPOCHS * N skipped samples themselves.
set -uo pipefail
py=/usr/bin/python3  # Debian's, where there is one; only the standard library is used
[[ -x $py ]] || py=python3
prefix=$1 samples=$2 epochs=$3 corrupt=$4
shift 4
IFS=, read -ra bad <<<"$corrupt"
n=${#bad[@]}
first=""
k=0
for cmd in "$@"; do
  rm -f "$prefix.$k".*
  extra="--digest --dump-ids $prefix.$k"
  [[ $cmd == *" run "* ]] && extra+=" --runtime.stats_file $prefix.$k.jsonl"
  timeout 240 bash -c "$cmd $extra" >"$prefix.$k.out" 2>"$prefix.$k.err"
  rc=$?
  fail() { echo "$cmd: $*"; echo "--- stdout:"; cat "$prefix.$k.out"; echo "--- stderr:"; cat "$prefix.$k.err"; exit 1; }
  [[ $rc -eq 0 ]] || fail "exit $rc"
  got=$(grep '^digest [^ ]* [0-9a-f]*$' "$prefix.$k.out" | sort)
  [[ -n $got ]] || fail "no digest"
  if [[ -z $first ]]; then first=$got; elif [[ $got != "$first" ]]; then
    fail "digests differ from the first command's: $first"
  fi
  # Exactly once per epoch: "PIPELINE EPOCH BATCH ID..." lines of every consumer.
  want=$(for ((e = 0; e < epochs; ++e)); do
    for ((id = 0; id < samples; ++id)); do [[ ,$corrupt, == *,$id,* ]] || echo "$e $id"; done
  done | sort)
  have=$(cat "$prefix.$k".[0-9]* | awk '{ for (i = 4; i <= NF; ++i) print $2, $i }' | sort)
  [[ $have == "$want" ]] || fail "delivered (epoch id) differ from every good sample once: $(diff <(echo "$want") <(echo "$have") | head -5)"
  for ((e = 0; e < epochs; ++e)); do
    grep -qx "ferry: pipeline 'default' epoch $e: $n sample(s) skipped (bad_samples = skip)" "$prefix.$k.out" ||
      fail "no line saying epoch $e skipped $n samples"
  done
  warned=$(grep -Eo "skipped \(bad_samples = skip\): [^ ]*: dataset /images, sample [0-9]+" "$prefix.$k.err" |
    sed 's/.* sample //' | sort -un | paste -sd,)
  want_warned=$(printf '%s\n' "${bad[@]}" | sort -un | paste -sd,)
  [[ $warned == "$want_warned" ]] || fail "warnings name samples '$warned', not '$want_warned'"
  twice=$(grep -Eo "^\[ferry r[0-9]+ warn(ing)?\] skipped \(bad_samples = skip\): .*, sample [0-9]+:" "$prefix.$k.err" |
    sort | uniq -d)
  [[ -z $twice ]] || fail "a rank warned twice about a sample: $twice"
  if [[ -f $prefix.$k.jsonl ]]; then
    sums=$("$py" - "$prefix.$k.jsonl" <<'PY'
import json, sys
consumer = epoch = 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["kind"] == "consumer_epoch": consumer += o["skipped"]
    if o["kind"] == "epoch": epoch += o["skipped"]
print(consumer, epoch)
PY
)
    [[ $sums == "$((epochs * n)) $((epochs * n))" ]] || fail "stats file: skipped (consumers, epochs) = $sums, not $((epochs * n))"
    if [[ -n ${FERRY_HEAD_SKIPS:-} ]]; then
      heads=$("$py" - "$prefix.$k.jsonl" <<'PY'
import json, sys
ran = past = skipped = 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["kind"] == "serve" and o.get("role") == "transformer":
        ran += o.get("head_batches", 0); skipped += o.get("samples_skipped", 0)
    if o["kind"] == "consumer_epoch": past += o.get("past_head_batches", 0)
print(ran, past, skipped)
PY
)
      read -r ran past skipped <<<"$heads"
      [[ $ran -gt 0 && $ran == "$past" ]] || fail "heads run on transformers $ran, batches past their head $past"
      [[ $skipped == $((epochs * n)) ]] || fail "transformers' serve lines skipped $skipped, not $((epochs * n))"
    fi
  fi
  k=$((k + 1))
done
echo "$# runs: same digests, every good sample once per epoch, $n skipped per epoch: $first"
