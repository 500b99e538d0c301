#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in their own build directory (the main build stays g++) and runs
# each one for MINUTES (decimals allowed: 1 = CI's 60 s), FERRY_FUZZ_JOBS targets at a time (default: one per
# core), from the committed seed corpus.
#   tests/fuzz/run.sh MINUTES [TARGET...]      default: every target
# Environment: FERRY_FUZZ_BUILD_DIR (default build-fuzz/; a directory already configured with
# FERRY_BUILD_FUZZERS=ON is reused as it is, as tests/run.sh --ci does with build-asan/), FERRY_BUILD_JOBS,
# FERRY_FUZZ_JOBS, FERRY_FUZZ_CMAKE_ARGS (extra configure arguments, e.g. the ccache launcher).
# New inputs go to $build/corpus/TARGET (the committed corpus is only read); a crash leaves its input in
# $build/artifacts/TARGET/ (fuzzing goes on) and fails the run. To keep a crashing input as a regression test, fix the bug and
# copy the input into tests/fuzz/corpus/TARGET/: ctest's fuzz_replay_TARGET replays it in every build.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${FERRY_FUZZ_BUILD_DIR:-$root/build-fuzz}
jobs=${FERRY_BUILD_JOBS:-$(nproc)}
fuzz_jobs=${FERRY_FUZZ_JOBS:-$(nproc)}
[[ $fuzz_jobs =~ ^[1-9][0-9]*$ ]] || { echo "fuzz/run.sh: FERRY_FUZZ_JOBS must be a count >= 1, not '$fuzz_jobs'" >&2; exit 2; }
all=(config chain wire monitor_codec handover)

[[ $# -ge 1 && $1 =~ ^[0-9]+([.][0-9]+)?$ ]] || { sed -n '2,12p' "$0" >&2; exit 2; }
seconds=$(awk -v m="$1" 'BEGIN { s = int(m * 60 + 0.5); print (s < 1 ? 1 : s) }')
shift
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "fuzz/run.sh: unknown target '$t' (have: ${all[*]})" >&2; exit 2; }
done
command -v clang++ >/dev/null || { echo "fuzz/run.sh: clang++ not found (scripts/install_deps.sh)" >&2; exit 1; }

start=$(date +%s)
if ! grep -qx "FERRY_BUILD_FUZZERS:BOOL=ON" "$build/CMakeCache.txt" 2>/dev/null; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
    -DCMAKE_CXX_COMPILER=clang++ -DFERRY_BUILD_FUZZERS=ON -DFERRY_BUILD_TESTS=OFF -DFERRY_BUILD_PERF=OFF \
    -DFERRY_BUILD_EXAMPLES=OFF -DFERRY_USE_CUDA=OFF -DFERRY_USE_NCCL=OFF ${FERRY_FUZZ_CMAKE_ARGS:-} \
    >"$build.configure.log" 2>&1 || {
    cat "$build.configure.log" >&2
    exit 1
  }
fi
cmake --build "$build" -j "$jobs" --target "${targets[@]/#/fuzz_}" >"$build.build.log" 2>&1 || {
  grep -E "error" -A5 "$build.build.log" | head -60 >&2
  echo "fuzz build failed (log: $build.build.log)" >&2
  exit 1
}
echo "fuzz build: $(($(date +%s) - start)) s" >&2

# Leaks inside the targets are findings too; UCX's malloc hooks are kept out of the process.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export UCX_MEM_MALLOC_HOOKS=no UCX_MEM_EVENTS=no
# fuzz_one TARGET: fuzzes it for the time given (its output in $build/fuzz_TARGET.log).
fuzz_one() {
  local t=$1 corpus=$build/corpus/$1 artifacts=$build/artifacts/$1/ f
  # Fork mode: a crash is saved and fuzzing goes on, so one long run reports every finding, not the first.
  "$build/tests/fuzz/fuzz_$t" "$corpus" "$root/tests/fuzz/corpus/$t" -fork=1 -ignore_crashes=1 -ignore_ooms=1 \
    -ignore_timeouts=1 -max_total_time="$seconds" -artifact_prefix="$artifacts" -rss_limit_mb=2048 -timeout=20 \
    >"$build/fuzz_$t.log" 2>&1 || true
  # A job cut off when the time is up can leave a timeout-* behind: only one that times out again counts.
  for f in "$artifacts"/timeout-*; do
    [[ -e $f ]] && "$build/tests/fuzz/fuzz_$t" -timeout=20 "$f" >/dev/null 2>&1 && rm -f "$f"
  done
  return 0
}

running=0
for t in "${targets[@]}"; do
  mkdir -p "$build/corpus/$t" "$build/artifacts/$t/"
  rm -f "$build/artifacts/$t"/{crash,leak,oom,timeout}-*
  if [[ $running -ge $fuzz_jobs ]]; then wait -n || true; running=$((running - 1)); fi
  fuzz_one "$t" &
  running=$((running + 1))
done
wait || true

failed=()
for t in "${targets[@]}"; do
  corpus=$build/corpus/$t artifacts=$build/artifacts/$t/ log=$build/fuzz_$t.log
  stats=$(grep -E "^#[0-9]+: cov" "$log" | tail -1 || true)
  execs=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$stats")
  found=$(find "$artifacts" -type f | wc -l)
  echo "fuzz_$t: ${seconds} s, ${execs:-0} executions, corpus $(find "$corpus" -type f | wc -l) files," \
    "oom/timeout/crash $(grep -oE "crash: [0-9/]+" <<<"$stats" | cut -c8- || true), $found input(s) saved" >&2
  if [[ $found -gt 0 ]]; then
    grep -E "^==.*ERROR|runtime error|fuzz property|what\(\)" "$log" | sort | uniq -c | head -8 >&2 || true
    failed+=("$t")
  fi
done
[[ ${#failed[@]} -eq 0 ]] || { echo "fuzz/run.sh: findings in: ${failed[*]} (inputs under $build/artifacts/)" >&2; exit 1; }
