#!/usr/bin/env bash
# no_shm_left.sh DIR MIN_BYTES COMMAND...
#   Runs COMMAND with UCX's POSIX shared-memory files in DIR (UCX_POSIX_DIR, a private folder, so that other
#   jobs' files do not count), then fails when a file of MIN_BYTES or more is left there: a cache slab that
#   outlived its job. COMMAND's own exit status is passed on.
set -u
dir=$1 min=$2
shift 2
rm -rf "$dir" && mkdir -p "$dir" || exit 1
UCX_POSIX_DIR=$dir "$@"
rc=$?
left=$(find "$dir" -type f -size +"$((min - 1))"c -printf '%p %s bytes\n')
rm -rf "$dir"
if [[ -n $left ]]; then
  echo "shared-memory file(s) left behind:"; echo "$left"
  exit 1
fi
exit $rc
