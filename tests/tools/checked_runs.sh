# checked_runs.sh, sourced by vlen_cache.sh and directory_shards.sh: the checks every `ferry run` of theirs
# gets before its own. Needs prefix, samples and epochs set.
#   local_digest "LOCAL COMMAND": the `ferry local` run's digest lines into want_digest (exit 1 without),
#     and every (epoch, ID) of [0, samples) x [0, epochs) into want_ids.
#   checked_run K "RUN COMMAND": runs it with --digest, --dump-ids PREFIX.K and --runtime.stats_file
#     PREFIX.K.jsonl; exit 0, ferry local's digests, every ID exactly once per epoch. fail MESSAGE prints the
#     command, the message and the run's output, and exits 1.
local_digest() {
  want_digest=$(timeout 240 bash -c "$1 --digest" 2>"$prefix.local.err" | grep '^digest [^ ]* [0-9a-f]*$' | sort)
  [[ -n $want_digest ]] || { echo "local run printed no digest: $1"; cat "$prefix.local.err"; exit 1; }
  want_ids=$(for ((e = 0; e < epochs; ++e)); do for ((id = 0; id < samples; ++id)); do echo "$e $id"; done; done | sort)
}

checked_run() {
  local k=$1
  run_cmd=$2 run_out=$prefix.$k.out run_err=$prefix.$k.err
  rm -f "$prefix.$k".*
  timeout 240 bash -c "$run_cmd --digest --dump-ids $prefix.$k --runtime.stats_file $prefix.$k.jsonl" \
    >"$run_out" 2>"$run_err"
  local rc=$?
  [[ $rc -eq 0 ]] || fail "exit $rc"
  local got have
  got=$(grep '^digest [^ ]* [0-9a-f]*$' "$run_out" | sort)
  [[ $got == "$want_digest" ]] || fail "digests '$got' differ from ferry local's '$want_digest'"
  have=$(cat "$prefix.$k".[0-9]* | awk '{ for (i = 4; i <= NF; ++i) print $2, $i }' | sort)
  [[ $have == "$want_ids" ]] ||
    fail "delivered (epoch id) differ from every sample once: $(diff <(echo "$want_ids") <(echo "$have") | head -5)"
}

fail() {
  echo "$run_cmd: $*"
  echo "--- stdout:"
  cat "$run_out"
  echo "--- stderr:"
  cat "$run_err"
  exit 1
}
