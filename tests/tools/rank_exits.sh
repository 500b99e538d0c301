#!/usr/bin/env bash
# rank_exits.sh RANKS REGEX MAX MPIEXEC [MPI ARGS...] -- COMMAND...
#   Runs COMMAND on every rank of an MPI job whose launcher is told not to end the job when a rank exits
#   non-zero (as srun without --kill-on-bad-exit), so each rank must end by itself. Checks that the job ends
#   (no hang), that each of the RANKS ranks exits non-zero, and that 1 to MAX lines of the output (stdout and
#   stderr) match REGEX, no two the same: each failure (a bad sample met by a rank) named in one line.
#   With RANK_EXITS_BY=REGEX2 in the environment, each of those lines also matches REGEX2 (who met it, e.g.
#   "rank [0-9]+ \(transformer\): ").
set -u
if [[ $1 == --rank ]]; then  # on each rank: run the command, then say how it ended
  shift
  "$@"
  rc=$?
  echo "rank_exits: rank $OMPI_COMM_WORLD_RANK exit $rc"
  exit $rc
fi
ranks=$1 re=$2 max=$3
shift 3
launcher=()
while [[ $1 != -- ]]; do launcher+=("$1"); shift; done
shift
out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout -k 10 240 "${launcher[@]}" --mca orte_abort_on_non_zero_status 0 "$0" --rank "$@" >"$out" 2>&1
rc=$?
fail=0
if [[ $rc -eq 124 || $rc -eq 137 ]]; then echo "the job hung (killed by the guard)"; fail=1; fi
failed=$(grep -Ec '^rank_exits: rank [0-9]+ exit [1-9][0-9]*$' "$out")
ended=$(grep -Ec '^rank_exits: rank [0-9]+ exit' "$out")
if [[ $failed -ne $ranks || $ended -ne $ranks ]]; then
  echo "expected $ranks ranks to exit non-zero, $failed did ($ended ended by themselves)"; fail=1
fi
got=$(grep -Ec -- "$re" "$out")
distinct=$(grep -E -- "$re" "$out" | sort -u | wc -l)
if [[ $got -lt 1 || $got -gt $max || $distinct -ne $got ]]; then
  echo "expected 1 to $max lines matching '$re', no two the same; got $got ($distinct different)"; fail=1
fi
by=${RANK_EXITS_BY:-}
if [[ -n $by ]] && grep -E -- "$re" "$out" | grep -Evq -- "$by"; then
  echo "a line matching '$re' does not match '$by'"; fail=1
fi
if [[ $fail -ne 0 ]]; then
  echo "--- command: ${launcher[*]} $*"; echo "--- output:"; cat "$out"
  exit 1
fi
echo "ok: $ranks ranks exited non-zero; $(grep -E -m1 -- "$re" "$out")"
