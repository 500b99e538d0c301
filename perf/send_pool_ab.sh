#!/usr/bin/env bash
# One-sided miss delivery (issue 14, goal 6): perf/ab_epoch.sh with runtime.send_pool_bytes 0 (every entry in
# messages: 4 copies after the read, 4 for an insert) against 64 MiB (the default: entries of 64 KiB and more
# through the send pool, 2 copies), two cold epochs a run from the page cache, so what differs is the CPU the
# copies and messages take.
#   perf/send_pool_ab.sh BUILD_DIR OUT_DIR [ROUNDS=3]
# Writes OUT_DIR/runs.txt and OUT_DIR/summary.md (pool/messages = B/A ratios per round).
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/ab_epoch.sh" --epochs 2 runtime.send_pool_bytes 0 67108864 "$@"
