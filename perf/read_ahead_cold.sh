#!/usr/bin/env bash
# Read-ahead from a cold page cache (issue 14, goal 7): perf/ab_epoch.sh with runtime.read_ahead_bytes 0 (off)
# against 64 MiB (on), one epoch, the kernel's page cache dropped before every run (root), so every read
# comes from the disk as it would from a parallel file system. perf/bench_read_ahead.py measures the same
# with the files cached (the suite's data); this one shows what the overlap is for.
#   perf/read_ahead_cold.sh BUILD_DIR OUT_DIR [ROUNDS=3]
# Writes OUT_DIR/runs.txt and OUT_DIR/summary.md (on/off = B/A ratios per round).
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/ab_epoch.sh" --drop-caches runtime.read_ahead_bytes 0 67108864 "$@"
