#!/usr/bin/env bash
# Runs one numbered example end to end: installs what is missing, builds, imports Debian's Fashion-MNIST
# (dataset-fashion-mnist) into data/, and launches the example with the ranks it needs.
#   examples/run.sh 00      smallest training loop (LocalLoader, one process)
#   examples/run.sh 01      the C API under mpirun (1 randomizer, 1 cache server, 1 transformer, 2 consumers)
#   examples/run.sh 02      dlib LeNet on 2 consumer ranks, parameters averaged with MPI_Allreduce (--local:
#                           the same client reading HDF5 itself, the baseline)
#   examples/run.sh 03      PyTorch CNN on 2 consumer ranks (add --direct to read HDF5 with h5py instead)
# Extra arguments go to the example.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../mpi_launchers/common.sh"
which=${1:?usage: examples/run.sh 00|01|02|03 [ARGS...]}
shift

"$root/scripts/install_deps.sh"
mkdir -p "$build"
ferry_configure
targets=(ferry-import)
case "$which" in
  00) targets+=(00_training_loop) ;;
  01) targets+=(01_c_api) ;;
  02) targets+=(02_dlib_lenet) ;;
  03) targets+=(ferry) ;;
  *) echo "examples/run.sh: no example '$which' (00, 01, 02 or 03)" >&2; exit 2 ;;
esac
cmake --build "$build" -j "$jobs" --target "${targets[@]}" >"$build.build.log" 2>&1 || {
  tail -40 "$build.build.log" >&2; echo "build failed (log: $build.build.log)" >&2; exit 1; }

data=${FERRY_DATA_DIR:-$root/data}
fm=/usr/share/datasets/fashion-mnist
mkdir -p "$data"
for split in train t10k; do
  [[ -f $data/fm_$split.h5 ]] || "$build/src/apps/ferry-import" idx --images "$fm/$split-images-idx3-ubyte.gz" \
    --labels "$fm/$split-labels-idx1-ubyte.gz" --out "$data/fm_$split.h5"
done

case "$which" in
  00) exec "$build/examples/00_training_loop" "$data/fm_train.h5" "$@" ;;
  01)
    cat >"$data/fm_c_api.toml" <<TOML
[[pipeline]]
name = "fmnist"
seed = 1
epochs = 1
batch_size = 64
[pipeline.dataset]
files = ["fm_train.h5"]
fields = { image = "/images", label = "/labels" }
[pipeline.prepare]
image = "cast(scale=0.00392157)"
TOML
    ferry_mpirun 5 "$build/examples/01_c_api" "$data/fm_c_api.toml" "$@" ;;
  02)
    if [[ " $* " == *" --local "* ]]; then n=2; else n=5; fi
    ferry_mpirun "$n" "$build/examples/02_dlib_lenet" --train "$data/fm_train.h5" --test "$data/fm_t10k.h5" "$@" ;;
  03)
    export FERRY_LIBRARY=$build/src
    if [[ " $* " == *" --direct "* ]]; then n=2; else n=5; fi
    ferry_mpirun "$n" /usr/bin/python3 "$root/examples/03_pytorch_fmnist.py" --train "$data/fm_train.h5" \
      --test "$data/fm_t10k.h5" "$@" ;;
esac
