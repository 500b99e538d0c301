#!/usr/bin/env bash
# Installs what is missing, configures, builds and runs the test suite with ctest (docs/testing.md).
#   tests/run.sh              the whole suite in build/ (g++)
#   tests/run.sh --ci         what CI runs (.ci/run): the whole suite but perf_quick (-LE ^perf$: the benchmark
#                             suite's quick run, which asserts no figure), then one clang ASan+UBSan build in
#                             build-asan/ of only what its sanitizer subset (-L 'unit|sanitize') runs plus the
#                             libFuzzer targets, that subset, each fuzz target for FERRY_CI_FUZZ_MINUTES
#                             (default 1), one per core at a time, and TSan over the threaded tests (-L tsan)
#                             in build-tsan/ (only their programs). Its builds keep line tables only (-g1).
#   tests/run.sh --sanitize   the whole sanitizer suite: ASan+UBSan over the unit, multi-rank, tool and fuzz
#                             replay tests in build-asan/, then TSan over the threaded ones (-L tsan) in build-tsan/
# Environment: FERRY_BUILD_DIR (default build/), FERRY_BUILD_JOBS, FERRY_CTEST_ARGS (extra ctest arguments; an
#   -LE there replaces --ci's -LE ^perf$: ctest keeps the last).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../mpi_launchers/common.sh"

mode=plain
case "${1:-}" in
  "") ;;
  --ci) mode=ci ;;
  --sanitize) mode=sanitize ;;
  -h|--help) sed -n '2,/^set -euo/{/^#/p}' "$0"; exit 0 ;;
  *) echo "tests/run.sh: unknown option '$1' (use --ci, --sanitize or --help)" >&2; exit 2 ;;
esac

# targets_of LABELS: the programs the tests with these labels run (add_test ones, known once configured; a
# test whose COMMAND names a target not built yet shows as "Could not find executable PATH").
targets_of() {
  (cd "$build" && ctest -N -V -L "$1" 2>&1 |
    sed -n -e 's/.*Test command: //p' -e 's/^Could not find executable //p' | tr ' ' '\n' | tr -d '"' |
    grep "^$build/" | xargs -r -n1 basename | sort -u)
}

# build_and_test DIR WHAT CTEST_ARGS [CMAKE_ARGS...]: configure and build DIR, run ctest there. With
# only_label set, only the programs of the tests with those labels (targets_of) and the targets named in
# also_build are built.
build_and_test() {
  local dir=$1 what=$2 ctest_args=$3
  shift 3
  build=$dir
  mkdir -p "$build"
  local start built targets=()
  start=$(date +%s)
  ferry_configure -DFERRY_BUILD_TESTS=ON "$@"
  [[ -n ${only_label:-} ]] && mapfile -t targets < <(targets_of "$only_label"; tr ' ' '\n' <<<"${also_build:-}")
  cmake --build "$build" -j "$jobs" ${targets[@]:+--target "${targets[@]}"} >"$build.build.log" 2>&1 || {
    grep -E "error|Error" -A5 "$build.build.log" | head -80 >&2
    echo "build failed (log: $build.build.log)" >&2
    exit 1
  }
  built=$(date +%s)
  echo "$what build: $((built - start)) s" >&2
  (
    cd "$build"
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
    # shellcheck disable=SC2086
    ctest --output-on-failure -j "${FERRY_CTEST_JOBS:-2}" $ctest_args ${FERRY_CTEST_ARGS:-}
  )
  echo "$what tests: $(($(date +%s) - built)) s" >&2
}

"$root/scripts/install_deps.sh"
main_build=$build
# Debug info: CMake's default -g, or line tables only (-g1) in CI: file:line in sanitizer reports and
# backtraces, the same code, about a quarter less compile time.
full_debug=(-DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g -DNDEBUG" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g -DNDEBUG")
line_tables=(-DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG")
sanitized=(-DFERRY_BUILD_PERF=OFF -DFERRY_BUILD_EXAMPLES=OFF -DFERRY_USE_CUDA=OFF -DFERRY_USE_NCCL=OFF)
case $mode in
  plain)
    build_and_test "$main_build" "" "" "${full_debug[@]}"
    ;;
  ci)
    build_and_test "$main_build" "" "-LE ^perf$" "${line_tables[@]}"
    # One sanitized build serves both: clang, so the fuzz targets (libFuzzer) build beside the tests. It builds
    # only the subset's programs: the unit binaries (ferry_unit_tests, with the tools they run) and those of
    # the tests labelled sanitize, the fuzz targets among them (fuzz_replay_*).
    (
      source "$root/tests/sanitize/env.sh"
      only_label='unit|sanitize' also_build=ferry_unit_tests build_and_test "$root/build-asan" "ASan+UBSan" \
        "-L unit|sanitize" -DFERRY_SANITIZE=address,undefined -DFERRY_BUILD_FUZZERS=ON -DCMAKE_C_COMPILER=clang \
        -DCMAKE_CXX_COMPILER=clang++ "${sanitized[@]}" "${line_tables[@]}"
    )
    fuzz_start=$(date +%s)
    FERRY_FUZZ_BUILD_DIR=$root/build-asan "$root/tests/fuzz/run.sh" "${FERRY_CI_FUZZ_MINUTES:-1}"
    echo "fuzz: $(($(date +%s) - fuzz_start)) s" >&2
    # TSan over the threaded tests (-L tsan), building only their programs.
    (
      source "$root/tests/sanitize/env.sh"
      only_label=tsan build_and_test "$root/build-tsan" "TSan" "-L tsan" -DFERRY_SANITIZE=thread "${sanitized[@]}" \
        "${line_tables[@]}"
    )
    ;;
  sanitize)
    (
      source "$root/tests/sanitize/env.sh"
      build_and_test "$root/build-asan" "ASan+UBSan" "-L unit|mpi|tools|fuzz -LE wide|python" -DFERRY_SANITIZE=address,undefined "${sanitized[@]}" "${full_debug[@]}"
      build_and_test "$root/build-tsan" "TSan" "-L tsan" -DFERRY_SANITIZE=thread "${sanitized[@]}" "${full_debug[@]}"
    )
    ;;
esac
