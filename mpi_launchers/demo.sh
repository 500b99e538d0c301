#!/usr/bin/env bash
# Builds Ferry, generates the default dataset (image-like samples) and runs the multi-rank system under
# mpirun: 1 randomizer, 1 cache server, 1 transformer and FERRY_DEMO_CONSUMERS (default 2) consumers, with
# two pipelines (other seeds, other augmentations) sharing one cache and one prepare stage. Prints the
# per-epoch table (samples/s, hit rate, HDF5 traffic). Environment: FERRY_BUILD_DIR, FERRY_DATA_DIR,
# FERRY_DEMO_SAMPLES (default 2048), FERRY_DEMO_CONSUMERS. Extra arguments go to `ferry run`.
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

# One pipeline over the demo images: NAME SEED AUGMENT. Both pipelines share the dataset and the prepare stage,
# so they share cache entries; their orders and augmentations differ.
pipeline() {
  cat <<TOML
[[pipeline]]
name = "$1"
seed = $2
epochs = 3
batch_size = 32
[pipeline.dataset]
layout = "stacked"
files = ["demo_images.h5"]
fields = { image = "/images", label = "/labels" }
[pipeline.prepare]
image = "cast(scale=0.00392157) | normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]) | hwc_to_chw"
[pipeline.augment]
image = "$3"
TOML
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

rm -f "$data/demo_stats.jsonl"
echo "config: $data/demo.toml (per-rank counters: $data/demo_stats.jsonl)" >&2
ferry_mpirun $((3 + ${FERRY_DEMO_CONSUMERS:-2})) "$build/src/apps/ferry" run --config "$data/demo.toml" "$@"
