#!/usr/bin/env bash
# same_ids.sh PREFIX CONSUMERS "COMMAND" "COMMAND" ...: runs each command line (through bash) with
# --dump-ids PREFIX.<k> appended and checks that every one wrote the same CONSUMERS files PREFIX.<k>.<consumer>
# as the first (the same IDs, batches and order per consumer), non-empty, with no ID twice in an epoch across
# consumers.
set -uo pipefail
prefix=$1 consumers=$2
shift 2
k=0
for cmd in "$@"; do
  rm -f "$prefix.$k".*
  timeout 240 bash -c "$cmd --dump-ids $prefix.$k" >"$prefix.$k.out" 2>&1 || {
    echo "command failed (exit $?): $cmd --dump-ids $prefix.$k"; cat "$prefix.$k.out"; exit 1; }
  for ((c = 0; c < consumers; ++c)); do
    f="$prefix.$k.$c"
    [[ -s $f ]] || { echo "$cmd: no IDs in $f"; exit 1; }
    if ((k > 0)); then
      cmp -s "$prefix.0.$c" "$f" || { echo "consumer $c: $f differs from $prefix.0.$c:"; diff "$prefix.0.$c" "$f" | head -5; exit 1; }
    fi
  done
  [[ ! -e "$prefix.$k.$consumers" ]] || { echo "$cmd: more than $consumers consumer files"; exit 1; }
  k=$((k + 1))
done
# Lines are "PIPELINE EPOCH BATCH ID...": an ID delivered twice in one epoch of a pipeline is a delivery bug.
dup=$(cat "$prefix.0".[0-9]* | awk '{ for (i = 4; i <= NF; ++i) print $1, $2, $i }' | sort | uniq -d | head -3)
[[ -z $dup ]] || { printf 'delivered twice in one epoch (pipeline epoch id):\n%s\n' "$dup"; exit 1; }
echo "$# runs, $consumers consumers: same IDs in the same batches and order"
