#!/usr/bin/env bash
# Runs one numbered example end to end: installs what is missing, builds, imports Debian's Fashion-MNIST
# (dataset-fashion-mnist) into data/, and launches the example with the ranks it needs.
#   examples/run.sh 00      smallest training loop (LocalLoader, one process)
#   examples/run.sh 01      the C API under mpirun (1 randomizer, 1 cache server, 1 transformer, 2 consumers)
#   examples/run.sh 02      dlib LeNet on 2 consumer ranks, parameters averaged with MPI_Allreduce (--local:
#                           the same client reading HDF5 itself, the baseline)
#   examples/run.sh 03      PyTorch CNN on 2 consumer ranks (add --direct to read HDF5 with h5py instead)
# Your own data instead of Fashion-MNIST (any example; Fashion-MNIST is not imported then):
#   --data FILE         HDF5 file to train on (stacked layout: one dataset of images, one of integer labels)
#   --test-data FILE    HDF5 file to test on (02, 03: accuracy at the end; none by default with --data)
#   --images DSET       the images' HDF5 dataset (default /images)
#   --labels DSET       the labels' HDF5 dataset (default /labels)
#   --prepare CHAIN     the images' prepare chain (default "cast(scale=0.00392157) | normalize(mean=[0.286],
#                       std=[0.353])", Fashion-MNIST's statistics); must give float32 images
#   --dry-run           print the command (and 01's config) instead of installing, building and running
# The models take what the data give: 00 any shape, 02 one channel of at least 16x16 (H x W or H x W x 1),
# 03 H x W or H x W x C; labels 0..9 (00: --classes N for more). Other arguments go to the example.
#   e.g. examples/run.sh 03 --data my.h5 --images /x --labels /y --epochs 2
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../mpi_launchers/common.sh"
which=${1:?usage: examples/run.sh 00|01|02|03 [--data FILE] [--test-data FILE] [--images DSET] [--labels DSET] [--prepare CHAIN] [--dry-run] [ARGS...]}
shift
case "$which" in
  00 | 01 | 02 | 03) ;;
  *) echo "examples/run.sh: no example '$which' (00, 01, 02 or 03)" >&2; exit 2 ;;
esac

train="" test="" name=data images=/images labels=/labels prepare="" dry=0 args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --data | --test-data | --images | --labels | --prepare)
      [[ $# -ge 2 ]] || { echo "examples/run.sh: $1 needs a value" >&2; exit 2; }
      case "$1" in
        --data) train=$2 ;;
        --test-data) test=$2 ;;
        --images) images=$2 ;;
        --labels) labels=$2 ;;
        --prepare) prepare=$2 ;;
      esac
      shift 2 ;;
    --dry-run) dry=1; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
for f in "$train" "$test"; do
  [[ -z $f || -f $f ]] || { echo "examples/run.sh: $f: no such file" >&2; exit 2; }
done
[[ -z $train ]] || train=$(realpath "$train")
[[ -z $test ]] || test=$(realpath "$test")

run() {  # the launch, or with --dry-run its command line
  if [[ $dry -eq 0 ]]; then "$@"; return; fi
  if [[ $1 == ferry_mpirun ]]; then  # as ferry_mpirun (mpi_launchers/common.sh) would run it
    local flags=(--oversubscribe)
    [[ $(id -u) -ne 0 ]] || flags+=(--allow-run-as-root)
    set -- mpirun -n "$2" "${flags[@]}" "${@:3}"
  fi
  printf '%q ' "$@"
  echo
}

data=${FERRY_DATA_DIR:-$root/data}
mkdir -p "$data"
if [[ $dry -eq 0 ]]; then
  "$root/scripts/install_deps.sh"
  mkdir -p "$build"
  ferry_configure
  targets=(ferry-import)
  case "$which" in
    00) targets+=(00_training_loop) ;;
    01) targets+=(01_c_api) ;;
    02) targets+=(02_dlib_lenet) ;;
    03) targets+=(ferry) ;;
  esac
  cmake --build "$build" -j "$jobs" --target "${targets[@]}" >"$build.build.log" 2>&1 || {
    tail -40 "$build.build.log" >&2; echo "build failed (log: $build.build.log)" >&2; exit 1; }
fi
if [[ -z $train ]]; then
  fm=/usr/share/datasets/fashion-mnist
  for split in train t10k; do
    [[ -f $data/fm_$split.h5 || $dry -eq 1 ]] || "$build/src/apps/ferry-import" idx \
      --images "$fm/$split-images-idx3-ubyte.gz" --labels "$fm/$split-labels-idx1-ubyte.gz" --out "$data/fm_$split.h5"
  done
  train=$data/fm_train.h5 test=${test:-$data/fm_t10k.h5} name=fmnist
fi
# What every example gets: the data, and the dataset names and chain when they are not the defaults.
data_args=()
[[ $images == /images ]] || data_args+=(--images "$images")
[[ $labels == /labels ]] || data_args+=(--labels "$labels")
[[ -z $prepare ]] || data_args+=(--prepare "$prepare")
test_args=()
[[ -z $test ]] || test_args=(--test "$test")

case "$which" in
  00) run "$build/examples/00_training_loop" "$train" "${data_args[@]}" "${args[@]}" ;;
  01)
    config=$data/c_api.toml
    cat >"$config" <<TOML
[[pipeline]]
name = "$name"
seed = 1
epochs = 1
batch_size = 64
[pipeline.dataset]
files = ["$train"]
fields = { image = "$images", label = "$labels" }
[pipeline.prepare]
image = "${prepare:-cast(scale=0.00392157)}"
TOML
    [[ $dry -eq 0 ]] || cat "$config"
    run ferry_mpirun 5 "$build/examples/01_c_api" "$config" "${args[@]}" ;;
  02)
    if [[ " ${args[*]} " == *" --local "* ]]; then n=2; else n=5; fi
    run ferry_mpirun "$n" "$build/examples/02_dlib_lenet" --train "$train" "${test_args[@]}" "${data_args[@]}" \
      "${args[@]}" ;;
  03)
    export FERRY_LIBRARY=$build/src
    if [[ " ${args[*]} " == *" --direct "* ]]; then n=2; else n=5; fi
    run ferry_mpirun "$n" /usr/bin/python3 "$root/examples/03_pytorch_fmnist.py" --train "$train" \
      "${test_args[@]}" "${data_args[@]}" "${args[@]}" ;;
esac
