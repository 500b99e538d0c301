#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Ferry needs when they are missing (as root), or prints what to install
# or `module load` when it cannot (not root, not Debian: a cluster).
#   scripts/install_deps.sh            install what is missing (root), else print the command and fail
#   scripts/install_deps.sh --print    only print what is missing
set -euo pipefail

packages=(
  cmake make g++ pkg-config
  libopenmpi-dev openmpi-bin
  libucx-dev ucx-utils
  libhdf5-openmpi-dev hdf5-tools
  libtrilinos-kokkos-dev
  libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev zlib1g-dev libxxhash-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # host log1p kernel: glibc's libmvec by default; SLEEF where FERRY_USE_SLEEF=ON (or glibc < 2.35)
  libsleef-dev
  # decode_jpeg / decode_png transform ops (TurboJPEG API, libspng)
  libturbojpeg0-dev libspng-dev
  # tests: libjpeg's API as a second decode path
  libjpeg62-turbo-dev
  dataset-fashion-mnist
  # clients and integrations that the test suite exercises: Slurm under a real controller, dlib, PyTorch
  slurm-wlm munge libdlib-dev python3-torch python3-torchvision python3-numpy python3-h5py python3-mpi4py
  # perf/: plots
  python3-matplotlib
  # tests/fuzz (tests/run.sh --ci): clang with libFuzzer and the sanitizer runtimes (libclang_rt.fuzzer)
  clang libclang-rt-dev
)

mode=install
for arg in "$@"; do
  case "$arg" in
    --print) mode=print ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "install_deps.sh: unknown option '$arg' (use --print or --help)" >&2; exit 2 ;;
  esac
done

cluster_hint() {
  cat >&2 <<'TXT'
On a cluster, load or build these instead of installing Debian packages, for example:
  module load cmake gcc openmpi ucx hdf5/parallel kokkos   # names differ per site
  spack install hdf5+mpi ucx kokkos toml-plus-plus cli11 spdlog xxhash googletest benchmark
then configure with -DCMAKE_PREFIX_PATH pointing at them (Kokkos: -DKokkos_ROOT=...).
TXT
}

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install_deps.sh: not a Debian/Ubuntu system; Ferry needs: MPI (C), UCX, parallel HDF5, Kokkos," \
       "toml++, CLI11, spdlog, fmt, zlib, xxHash >= 0.8, GoogleTest, CMake >= 3.25, a C++20 compiler" >&2
  cluster_hint
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ $mode == print ]]; then
  echo "missing: ${missing[*]}"
  echo "install with: apt-get install -y --no-install-recommends ${missing[*]}"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install_deps.sh: missing packages: ${missing[*]}" >&2
  echo "  as root: apt-get install -y --no-install-recommends ${missing[*]}" >&2
  cluster_hint
  exit 1
fi
echo "install_deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
