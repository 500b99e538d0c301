#!/usr/bin/env bash
# Builds Ferry, generates the default dataset (image-like and CosmoFlow-like samples) and runs the demo
# under mpirun, printing what it measured per epoch. Environment: FERRY_DEMO_RANKS (default 2),
# FERRY_BUILD_DIR, FERRY_DATA_DIR, FERRY_DEMO_SAMPLES (default 2048).
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
if [[ ! -d "$data/demo_cosmo" ]]; then
  "$build/src/apps/ferry-gen" cosmoflow --out "$data/demo_cosmo" --samples $((samples / 8)) --seed 2
fi

# The demo's config: two pipelines, written next to the data so that it can be read and rerun by hand.
cat >"$data/demo.toml" <<TOML
log_level = "warn"

[[pipeline]]
name = "images"
seed = 7
epochs = 2
batch_size = 32
[pipeline.dataset]
layout = "stacked"
files = ["demo_images.h5"]
fields = { image = "/images", label = "/labels" }
[pipeline.prepare]
image = "cast(scale=0.00392157) | normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]) | hwc_to_chw"
[pipeline.augment]
image = "random_crop(height=56, width=56, padding=4) | random_flip(p=0.5)"

[[pipeline]]
name = "cosmoflow"
seed = 11
epochs = 2
batch_size = 4
[pipeline.dataset]
layout = "file_per_sample"
files = ["demo_cosmo"]
fields = { full = "full", params = "unitPar" }
[pipeline.prepare]
full = "cast | log1p"
TOML

echo "config: $data/demo.toml" >&2
ferry_mpirun "${FERRY_DEMO_RANKS:-2}" "$build/src/apps/ferry" local --config "$data/demo.toml" "$@"
