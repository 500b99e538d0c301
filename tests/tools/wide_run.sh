#!/usr/bin/env bash
# wide_run.sh BUILD_DIR OUT_DIR RANKS: one wide run of the multi-rank system on this machine (oversubscribed),
# checked against `ferry local`. Two pipelines (two cache IDs, so two randomizers from 8 ranks on) over
# SAMPLES generated 8x8 images, batch 4, 2 epochs, a cache smaller than the prepared set. From 16 ranks on the
# ranks form 4 pretend nodes (FERRY_TEST_RANKS_PER_NODE = RANKS/4) with one cache server each, so the
# monitoring gather goes through node stats leaders and every node has transformers
# (runtime.transformers_per_node), so misses stay on the consumer's node (docs/scaling.md):
#   ranks  randomizers  cache servers  transformers  consumers
#   4      1            1              1             1
#   8      2            1              2             3
#   16     2            4 (1 a node)   4             6
#   32     2            4 (1 a node)   8             18
#   64     2            4 (1 a node)   8             50
# Checks: every consumer gets the same IDs in the same batches and the same digests as `ferry local` with as
# many ranks as consumers; every ID of the dataset exactly once per pipeline and epoch; the coordinator's
# gather line names only randomizers and node stats leaders as senders, and its job lists went out in at most
# one kJobs per leader; with nodes, no miss list went to another node's transformer. Writes
# OUT_DIR/RANKS/{run.out,stats.jsonl,seconds} for perf/wide.sh. Exit 1 on a failed check.
# Environment: SAMPLES (default 3200), TRANSPORT (ucx), SHARDS (runtime.directory_shards, default 1: each
# cache ID's directory on SHARDS randomizers, so the table's randomizers times SHARDS, fewer consumers).
set -uo pipefail
py=/usr/bin/python3  # Debian's, where there is one; only the standard library is used
[[ -x $py ]] || py=python3
build=$1 out=$2 ranks=$3
samples=${SAMPLES:-3200} transport=${TRANSPORT:-ucx} shards=${SHARDS:-1}
ferry=$build/src/apps/ferry gen=$build/src/apps/ferry-gen
dir=$out/$ranks
mkdir -p "$dir"
rm -f "$dir"/ids.* "$dir"/local.* "$dir/stats.jsonl"
fail() { echo "wide_run.sh ($ranks ranks): $*"; exit 1; }
case $ranks in
  4) layout=(1 1 1 0) ;; 8) layout=(2 1 2 0) ;; 16) layout=(2 1 4 4) ;; 32) layout=(2 1 8 8) ;; 64) layout=(2 1 8 16) ;;
  *) echo "wide_run.sh: error: RANKS must be 4, 8, 16, 32 or 64" >&2; exit 2 ;;
esac
randomizers=$((layout[0] * shards)) servers=${layout[1]} transformers=${layout[2]} per_node=${layout[3]}
if ((per_node > 0)); then
  consumers=$((ranks - randomizers - ranks / per_node - transformers))
  placement=(--runtime.cache_servers_per_node 1 --runtime.transformers_per_node $((transformers / 4)))
  export FERRY_TEST_RANKS_PER_NODE=$per_node
else
  consumers=$((ranks - randomizers - servers - transformers))
  placement=(--runtime.cache_servers "$servers")
  unset FERRY_TEST_RANKS_PER_NODE
fi
data=$out/wide.h5
[[ -s $data ]] || "$gen" image --out "$data" --samples "$samples" --height 8 --width 8 --chunk 64 >/dev/null ||
  fail "ferry-gen failed"
# Pipeline a (cache ID 0) augments, b (cache ID 1) does not; both read the same file.
echo 'log_level = "warn"' >"$dir/wide.toml"
for p in a b; do
  cat >>"$dir/wide.toml" <<TOML
[[pipeline]]
name = "$p"
cache_id = $([[ $p == a ]] && echo 0 || echo 1)
seed = $([[ $p == a ]] && echo 11 || echo 12)
epochs = 2
batch_size = 4
dataset = { files = ["$data"], fields = { image = "/images", label = "/labels" } }
prepare = { image = "cast | hwc_to_chw" }
$([[ $p == a ]] && echo 'augment = { image = "random_flip" }')
TOML
done
if [[ $(id -u) -eq 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
mpirun=(mpiexec --oversubscribe)
# 8x8x3 f32 = 768 bytes an entry (+ label): a cache of 3/4 of the samples over all servers and randomizers.
cache=$((samples * 800 * 3 / 4 / (per_node > 0 ? 4 : servers)))
(unset FERRY_TEST_RANKS_PER_NODE; timeout 600 "${mpirun[@]}" -n "$consumers" "$ferry" local --config "$dir/wide.toml" \
  --digest --dump-ids "$dir/local") >"$dir/local.out" 2>&1 || fail "ferry local failed: $(tail -3 "$dir/local.out")"
start=$(date +%s.%N)
timeout 600 "${mpirun[@]}" -n "$ranks" "$ferry" run --config "$dir/wide.toml" --runtime.randomizers "$randomizers" \
  --runtime.directory_shards "$shards" \
  "${placement[@]}" --runtime.transformers "$transformers" --runtime.cache_bytes "$cache" \
  --runtime.transport "$transport" --runtime.stats_file "$dir/stats.jsonl" --monitor.window_ms 100 --digest \
  --dump-ids "$dir/ids" \
  >"$dir/run.out" 2>&1 || fail "ferry run failed: $(tail -5 "$dir/run.out")"
awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f\n", b - a }' >"$dir/seconds"

want=$(grep '^digest ' "$dir/local.out" | sort) got=$(grep '^digest ' "$dir/run.out" | sort)
[[ -n $want && $want == "$got" ]] || fail "digests differ from ferry local: $want vs $got"
for ((c = 0; c < consumers; ++c)); do
  # ferry local drains pipeline a then b, ferry run takes them in turn: compare each pipeline's sequence.
  cmp -s <(sort -s -k1,1 "$dir/local.$c") <(sort -s -k1,1 "$dir/ids.$c") ||
    fail "consumer $c: IDs differ from ferry local"
done
[[ ! -e $dir/ids.$consumers ]] || fail "more than $consumers consumer ID files"
# Lines are "PIPELINE EPOCH BATCH ID...": each pipeline and epoch must hold every delivered ID once, and
# (drop_last) exactly consumers * floor(share / batch) * batch of them.
per_consumer=$((samples / consumers / 4 * 4))
cat "$dir"/ids.[0-9]* | awk -v want=$((per_consumer * consumers)) '
  { for (i = 4; i <= NF; ++i) { n[$1 " " $2]++; if (seen[$1 " " $2 " " $i]++) { print "twice: " $1 " " $2 " " $i; bad = 1 } } }
  END { for (k in n) if (n[k] != want) { print k ": " n[k] " IDs, want " want; bad = 1 }; exit bad }' ||
  fail "not exactly once"
gather=$(grep '"kind":"gather"' "$dir/stats.jsonl") || fail "no gather line in the stats file"
"$py" - "$gather" "$ranks" "${per_node:-0}" "$randomizers" "$dir/stats.jsonl" <<'PY' || fail "gather check failed"
import json, sys
g = json.loads(sys.argv[1]); ranks, per_node, randomizers = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
roles, lists, off_node = {}, 0, 0
for line in open(sys.argv[5]):
    o = json.loads(line)
    if o.get("kind") == "serve":
        roles[o["rank"]] = o.get("initial_role", o.get("role"))
        lists += o.get("miss_lists_sent", 0)
        off_node += o.get("miss_lists_off_node", 0)
if not lists: sys.exit("no miss list was sent")
# With transformers on every node, a consumer's misses go to its own node's transformers only.
if per_node and off_node: sys.exit(f"{off_node} of {lists} miss lists went to another node's transformer")
allowed = set(range(randomizers))
if per_node:
    for node in range(0, ranks, per_node):  # leader: the node's lowest cache server or transformer
        allowed.add(min(r for r in range(node, node + per_node) if roles.get(r) in ("cache_server", "transformer")))
    bad = [s for s in g["senders"] if s not in allowed]
    if bad: sys.exit(f"senders {bad} are neither randomizers nor node stats leaders {sorted(allowed)}")
    # Job lists go the other way through the leaders: at most one kJobs per leader and list.
    if g["jobs_messages"] > g["job_lists"] * (len(allowed) - randomizers):
        sys.exit(f"{g['jobs_messages']} kJobs messages for {g['job_lists']} job lists: more than one a leader")
print(f"gather: {g['messages']} messages from {len(g['senders'])} senders, {g['windows']} windows of "
      f"{g['reporters']} ranks, {g['bytes']} bytes; {g['job_lists']} job lists in {g['jobs_messages']} messages; "
      f"{lists} miss lists, {off_node} off-node")
PY
echo "wide run: $ranks ranks ($randomizers randomizers, cache servers $([[ $per_node -gt 0 ]] && echo $((ranks / per_node)) || echo $servers), $transformers transformers, $consumers consumers): digests and IDs equal ferry local, exactly once, $(cat "$dir/seconds") s"
