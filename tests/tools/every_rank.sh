#!/usr/bin/env bash
# every_rank.sh [--any-exit] RANKS REGEX COMMAND...: the command (an MPI job) must end without hanging,
# exit non-zero (any exit with --any-exit: mpirun told not to abort on a failed rank exits 0), and print
# exactly RANKS lines matching REGEX (stdout and stderr together): one per rank that must say it.
set -u
any_exit=0
if [[ $1 == --any-exit ]]; then any_exit=1; shift; fi
ranks=$1 re=$2
shift 2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout 240 "$@" >"$out" 2>&1
rc=$?
got=$(grep -Ec -- "$re" "$out")
fail=0
if [[ $rc -eq 0 && $any_exit -eq 0 ]]; then echo "expected a non-zero exit, got 0"; fail=1; fi
if [[ $rc -eq 124 ]]; then echo "command hung (timeout)"; fail=1; fi
if [[ $got -ne $ranks ]]; then echo "expected $ranks lines matching '$re' (one per rank), got $got"; fail=1; fi
if [[ $fail -ne 0 ]]; then
  echo "--- command: $*"; echo "--- output:"; cat "$out"
  exit 1
fi
echo "ok: exit $rc, $ranks lines: $(grep -E -m1 -- "$re" "$out")"
