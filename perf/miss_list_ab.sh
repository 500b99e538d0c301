#!/usr/bin/env bash
# Miss lists of at least runtime.miss_list_bytes (issue 16): a batch's misses go to min(T, bytes / 1 MiB)
# transformers instead of min(B, T), so small samples cost one HDF5 call per field and batch, not one per
# transformer. Wide jobs with small samples, miss_list_bytes = 0 (the old split) against 1 MiB (the default),
# alternating (0 first in odd rounds, 1 MiB first in even ones), ROUNDS times: `ferry_bench run`, 16 ranks (10 consumers, 3 transformers, 2 cache servers) and
# 32 (20, 8, 3), 61,440 64x64x3 u8 images cast to f32 (49 KB entries), batch 16, epoch 0 cold (every sample
# read and inserted), epoch 1 all hits.
#   perf/miss_list_ab.sh BUILD_DIR OUT_DIR [ROUNDS=2]
# Writes OUT_DIR/runs.txt (round, ranks, value, samples/s of epochs 0 and 1, HDF5 reads of epoch 0, load) and
# OUT_DIR/summary.md (1 MiB / 0 ratios per round).
set -euo pipefail
usage="usage: miss_list_ab.sh BUILD_DIR OUT_DIR [ROUNDS]"
build=$(realpath "${1:?$usage}") out=$(realpath -m "${2:?$usage}")
rounds=${3:-2}
mkdir -p "$out" && cd "$out"
[[ -f img.h5 ]] || "$build/src/apps/ferry-gen" image --out img.h5 --samples 61440 --height 64 --width 64 >/dev/null
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
config() {  # RANKS SERVERS TRANSFORMERS VALUE
  cat >"w$1_$4.toml" <<EOF
[runtime]
transport = "ucx"
cache_servers = $2
transformers = $3
cache_bytes = $((61440 / $2 * 49216 + 49216))
miss_list_bytes = $4
stats_file = "$out/w$1_$4.stats.jsonl"
[[pipeline]]
seed = 7
epochs = 2
batch_size = 16
[pipeline.dataset]
files = ["$out/img.h5"]
fields = { image = "/images", label = "/labels" }
[pipeline.prepare]
image = "cast"
EOF
}
: >runs.txt
for ((round = 1; round <= rounds; ++round)); do
  for layout in "16 2 3" "32 3 8"; do
    read -r ranks servers transformers <<<"$layout"
    order="0 1048576"
    ((round % 2)) || order="1048576 0"
    for value in $order; do
      config "$ranks" "$servers" "$transformers" "$value"
      rm -f "w${ranks}_$value.stats.jsonl"
      mpirun -n "$ranks" "$build/perf/ferry_bench" run "w${ranks}_$value.toml" "w${ranks}_$value.out.jsonl" \
        >"w${ranks}_$value.log" 2>&1
      /usr/bin/env python3 - "$round" "$ranks" "$value" "w${ranks}_$value.stats.jsonl" >>runs.txt <<'PY'
import json, os, sys
epochs = [json.loads(l) for l in open(sys.argv[4]) if '"kind":"epoch"' in l]
rate = [e["samples"] / e["seconds"] for e in sorted(epochs, key=lambda e: e["epoch"])]
print(*sys.argv[1:4], f"{rate[0]:.0f}", f"{rate[1]:.0f}", epochs[0]["hdf5_reads"], f"{os.getloadavg()[0]:.1f}")
PY
    done
  done
done
/usr/bin/env python3 - <<'PY' >summary.md
rows = sorted((line.split() for line in open("runs.txt")), key=lambda r: (int(r[0]), int(r[1]), int(r[2])))
print("| round | ranks | epoch 0 samples/s: 0 / 1 MiB (ratio) | epoch 1 samples/s: 0 / 1 MiB (ratio) | "
      "HDF5 reads of epoch 0: 0 / 1 MiB | load |")
print("|---|---|---|---|---|---|")
for a, b in zip(rows[0::2], rows[1::2]):
    e0, e1 = float(b[3]) / float(a[3]), float(b[4]) / float(a[4])
    print(f"| {a[0]} | {a[1]} | {a[3]} / {b[3]} ({e0:.2f}) | {a[4]} / {b[4]} ({e1:.2f}) | {a[5]} / {b[5]} "
          f"| {a[6]}, {b[6]} |")
PY
cat summary.md
