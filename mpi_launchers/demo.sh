#!/usr/bin/env bash
# Builds Ferry, generates the default dataset (image-like samples) and runs the multi-rank system under
# mpirun in three parts, each printing its per-epoch table (samples/s, hit rate, HDF5 traffic, layout):
#   1. sharing: 1 randomizer, 1 cache server, 1 transformer and FERRY_DEMO_CONSUMERS (default 2) consumers,
#      two pipelines (other seeds, other augmentations) sharing one cache and one prepare stage;
#   2. role rebalancing R1: the cache holds half the prepared dataset and two transformers sit idle while the
#      consumers train: at the end of the first epoch in which they idle (on 2 cores: epoch 1, when half the
#      samples are hits) a transformer becomes a cache server and the hit rate rises;
#   3. role rebalancing R2: an expensive prepare stage saturates the one transformer while two cache servers
#      of a few entries serve almost nothing: after epoch 1 (the first warm one) one of them becomes a
#      transformer and the consumers' wait falls;
#   4. role rebalancing R3: the same expensive prepare for two pipelines (two cache IDs, so two randomizers)
#      and one cache server: after the first epoch the second randomizer hands its pipeline and its share of
#      the cache to the coordinator's randomizer and becomes a second transformer.
# Environment: FERRY_BUILD_DIR, FERRY_DATA_DIR, FERRY_DEMO_SAMPLES (default 2048), FERRY_DEMO_CONSUMERS,
# FERRY_DEMO_PARTS (default "1 2 3 4"). Extra arguments go to `ferry run` in part 1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

"$root/scripts/install_deps.sh"
mkdir -p "$build"
ferry_configure
cmake --build "$build" -j "$jobs" --target ferry_cli ferry-gen >"$build.build.log" 2>&1 || {
  tail -50 "$build.build.log" >&2
  echo "build failed (log: $build.build.log)" >&2
  exit 1
}

data=${FERRY_DATA_DIR:-$root/data}
samples=${FERRY_DEMO_SAMPLES:-2048}
mkdir -p "$data"
if [[ ! -f "$data/demo_images.h5" ]]; then
  "$build/src/apps/ferry-gen" image --out "$data/demo_images.h5" --samples "$samples" --seed 1 --chunk 64 --deflate 1
fi

# One pipeline over the demo images: NAME SEED CACHE_ID EPOCHS PREPARE [AUGMENT].
pipeline_block() {
  cat <<TOML
[[pipeline]]
name = "$1"
seed = $2
cache_id = $3
epochs = $4
batch_size = 32
[pipeline.dataset]
layout = "stacked"
files = ["demo_images.h5"]
fields = { image = "/images", label = "/labels" }
[pipeline.prepare]
image = "$5"
TOML
  [[ -z ${6:-} ]] || printf '[pipeline.augment]\nimage = "%s"\n' "$6"
}

# Part 1's pipelines: NAME SEED AUGMENT. Both share the dataset and the prepare stage, so they share cache
# entries; their orders and augmentations differ.
pipeline() {
  pipeline_block "$1" "$2" 0 3 \
    "cast(scale=0.00392157) | normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]) | hwc_to_chw" "$3"
}

# The demo's config, written next to the data so that it can be read and rerun by hand.
cat >"$data/demo.toml" <<TOML
log_level = "warn"

[runtime]
transport = "ucx"
randomizers = 1
cache_servers = 1
transformers = 1
cache_bytes = 67108864      # 64 MiB: about two thirds of the prepared dataset
cache_policy = "clairvoyant"
prefetch = 4
stats_file = "$data/demo_stats.jsonl"

$(pipeline train_a 7 "random_crop(height=56, width=56, padding=4) | random_flip(p=0.5)")

$(pipeline train_b 8 "random_flip(p=0.5) | noise(std=0.02)")
TOML

# Role rebalancing: one pipeline, 2 consumers, 4 service ranks, decisions logged (log_level info).
# NAME CACHE_SERVERS TRANSFORMERS CACHE_BYTES EPOCHS PREPARE [RANDOMIZERS]: with 2 randomizers a second
# pipeline (cache ID 1, another seed) goes to the second one.
rebalance_config() {
  cat <<TOML
log_level = "info"

[runtime]
transport = "ucx"
randomizers = ${7:-1}
cache_servers = $2
transformers = $3
cache_bytes = $4
cache_policy = "static"
prefetch = 4
stats_file = "$data/demo_$1_stats.jsonl"

[monitor]
rebalance = true
window_ms = 100
TOML
  echo
  pipeline_block "$1" 11 0 "$5" "$6"
  if [[ ${7:-1} == 2 ]]; then
    echo
    pipeline_block "$1_b" 12 1 "$5" "$6"
  fi
  return 0
}

parts=${FERRY_DEMO_PARTS:-1 2 3 4}
if [[ " $parts " == *" 1 "* ]]; then
  rm -f "$data/demo_stats.jsonl"
  echo "== 1. two pipelines sharing one cache; config: $data/demo.toml (counters: $data/demo_stats.jsonl)" >&2
  ferry_mpirun $((3 + ${FERRY_DEMO_CONSUMERS:-2})) "$build/src/apps/ferry" run --config "$data/demo.toml" "$@"
fi
# A prepared 64x64x3 image is 49152 bytes of f32 + the label: 49216 bytes, 49280 in a slab.
if [[ " $parts " == *" 2 "* ]]; then
  rebalance_config r1 1 2 $((samples / 2 * 49280)) 4 \
    "cast(scale=0.00392157) | normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])" >"$data/demo_r1.toml"
  rm -f "$data/demo_r1_stats.jsonl"
  echo "== 2. R1: the cache holds half the dataset, two idle transformers (consumers train 80 ms per batch);" \
    "config: $data/demo_r1.toml" >&2
  ferry_mpirun 6 "$build/src/apps/ferry" run --config "$data/demo_r1.toml" --step-ms 80
fi
# log1p at 160x160, then down to 40x40x3 f32: 19200 bytes + the label; cache servers of 16 entries each.
if [[ " $parts " == *" 3 "* ]]; then
  rebalance_config r2 2 1 $((16 * 19328)) 3 \
    "cast(scale=0.00392157) | resize(height=160, width=160) | log1p | resize(height=40, width=40)" \
    >"$data/demo_r2.toml"
  rm -f "$data/demo_r2_stats.jsonl"
  echo "== 3. R2: an expensive prepare saturates the one transformer, two cache servers of 16 entries;" \
    "config: $data/demo_r2.toml" >&2
  ferry_mpirun 6 "$build/src/apps/ferry" run --config "$data/demo_r2.toml"
fi
# R3: the same prepare for two pipelines; each randomizer's share of the one cache server holds 16 entries.
if [[ " $parts " == *" 4 "* ]]; then
  rebalance_config r3 1 1 $((2 * 16 * 19328)) 3 \
    "cast(scale=0.00392157) | resize(height=160, width=160) | log1p | resize(height=40, width=40)" 2 \
    >"$data/demo_r3.toml"
  rm -f "$data/demo_r3_stats.jsonl"
  echo "== 4. R3: two randomizers, an expensive prepare saturates the one transformer, one cache server;" \
    "config: $data/demo_r3.toml" >&2
  ferry_mpirun 6 "$build/src/apps/ferry" run --config "$data/demo_r3.toml"
fi
