#!/usr/bin/env bash
# The GPU check in one command, for the short spells a GPU machine is lent (issue 14, goal 9).
#   perf/gpu_check.sh pack [--build-dir DIR]   here (Debian 12, CUDA at /usr/local/cuda, no GPU needed):
#       builds the GPU-relevant programs with CUDA and NCCL for sm_80 and sm_90 (default build-gpu/), and
#       packs them with every library they load, Open MPI, PMIx and UCX into .gpu/ferry-gpu.tar.xz (git
#       ignores .gpu/). The GPU machine has CUDA, a driver and PyTorch's NCCL but no MPI, HDF5 or Kokkos.
#   perf/gpu_check.sh run [--out DIR]          on the GPU machine, from the repository root: unpacks the
#       bundle in /tmp/ferry-gpu and runs each check under a deadline, writing DIR/summary.md and one log per
#       check (DIR: $OUT where the device tool sets it, else perf/results/gpu-DATE). Exit 0 only when every
#       check passed. Each check has a deadline, and all of them FERRY_GPU_CHECK_SECONDS (default 420).
# Through the device tool: run(command="perf/gpu_check.sh run", carry=[".gpu"], timeout_s=480).
# The checks (docs/heterogeneous.md, "Running the GPU check"):
#   machine        nvidia-smi's GPU, driver and memory; the NCCL library found
#   libraries      every bundled program loads (ldd: nothing missing)
#   gpu_tests      test_transform's device suites (CudaLauncher, DeviceProgram, Accelerator, Target, WorkerQueue):
#                  none may fail, and with a GPU visible none may skip for want of one
#   bench_device   CPU vs GPU samples/s for the log1p and normalize + crop prepare stages (ratios)
#   run_prepare    ferry run, 5 ranks, every prepare and augment batch on the GPU (static share 1): digest
#                  equal to ferry local on the CPU, and the transformation rank opened the accelerator
#   run_device_batches  the same with runtime.device_batches (NCCL from the transformer's GPU to each
#                  consumer's; on a one-GPU machine NCCL refuses two ranks on one device: then skipped)
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bundle_dir=$root/.gpu
bundle=${FERRY_GPU_BUNDLE:-$bundle_dir/ferry-gpu.tar.xz}  # the variable: for tests
programs=(tests/test_transform perf/bench_device src/apps/ferry src/apps/ferry-gen)
# Provided by the GPU machine itself: glibc, the C++ runtime, the driver and NCCL.
system_libs='^(linux-vdso|ld-linux-x86-64|libc|libm|libmvec|libdl|libpthread|librt|libresolv|libutil|libstdc\+\+|libgcc_s|libcuda|libnvidia-[a-z-]*|libnccl)\.so'

usage() { sed -n '2,12p' "$0" >&2; exit 2; }

# ldd_paths FILE...: the resolved paths of the libraries the files load, one per line.
ldd_paths() { ldd "$@" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' | sort -u; }

pack() {
  local build=$root/build-gpu
  [[ ${1:-} == --build-dir ]] && { build=$(realpath -m "${2:?--build-dir DIR}"); shift 2; }
  [[ $# -eq 0 ]] || usage
  local launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  if [[ ! -f $build/CMakeCache.txt ]]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFERRY_USE_CUDA=ON -DFERRY_USE_NCCL=ON \
      "-DCMAKE_CUDA_ARCHITECTURES=80;90" -DFERRY_BUILD_TESTS=ON -DFERRY_BUILD_PERF=ON -DFERRY_BUILD_EXAMPLES=OFF \
      "${launcher[@]}" >"$build.configure.log" 2>&1 || { tail -30 "$build.configure.log" >&2; exit 1; }
  fi
  for feature in CUDA NCCL; do
    grep -q "define FERRY_HAVE_$feature 1" "$build/include/ferry/features.hpp" ||
      { echo "gpu_check.sh: $build was configured without $feature (needs /usr/local/cuda and NCCL)" >&2; exit 1; }
  done
  cmake --build "$build" -j "$(nproc)" --target test_transform bench_device ferry_cli ferry-gen \
    >"$build.build.log" 2>&1 || { grep -E "error" -A3 "$build.build.log" | head -40 >&2; exit 1; }

  local stage multi=/usr/lib/x86_64-linux-gnu
  stage=$(mktemp -d)/ferry-gpu
  mkdir -p "$stage"/{bin,lib,ompi/bin,ompi/lib/x86_64-linux-gnu/openmpi,ompi/share,pmix}
  for p in "${programs[@]}"; do strip --strip-debug -o "$stage/bin/${p##*/}" "$build/$p"; done
  # Open MPI relocated with OPAL_PREFIX (its Debian paths under the prefix), PMIx's components named by path;
  # UCX finds its transports in lib/ucx beside libucs.
  cp -a "$multi/openmpi/lib" "$stage/ompi/lib/x86_64-linux-gnu/openmpi/"
  cp -a /usr/share/openmpi "$stage/ompi/share/"
  cp /usr/bin/orterun /usr/bin/orted "$stage/ompi/bin/"
  ln -s orterun "$stage/ompi/bin/mpirun"
  cp -a "$multi/pmix2/lib" "$multi/pmix2/share" "$stage/pmix/"
  rm -f "$stage/pmix/lib/libpmix.a"
  cp -a "$multi/ucx" "$stage/lib/ucx"
  local elves
  mapfile -t elves < <(find "$stage" -type f \( -name '*.so*' -o -perm -u+x \) -exec sh -c 'head -c4 "$1" | grep -q ELF' _ {} \; -print)
  ldd_paths "${elves[@]}" | while read -r name path; do
    [[ $name =~ $system_libs ]] && continue
    [[ -e $stage/lib/$name ]] || cp -L "$path" "$stage/lib/$name"
  done
  git -C "$root" rev-parse HEAD >"$stage/COMMIT"
  mkdir -p "$bundle_dir"
  tar -C "${stage%/*}" -cJf "$bundle" ferry-gpu
  rm -rf "${stage%/*}"
  echo "gpu_check.sh: $bundle ($(du -h "$bundle" | cut -f1), commit $(git -C "$root" rev-parse --short HEAD)): carry .gpu" >&2
}

source "$root/perf/gpu_check_steps.sh"

case "${1:-}" in
  pack) shift; pack "$@" ;;
  run) shift; run_checks "$@" ;;
  *) usage ;;
esac
