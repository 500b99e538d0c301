#!/usr/bin/env bash
# usage_error.sh PROGRAM MESSAGE_REGEX COMMAND...
#   COMMAND must exit 2 (docs/errors.md) and print exactly one "PROGRAM: error: ..." line on stderr, matching
#   MESSAGE_REGEX and ending in "(see PROGRAM --help)"; nothing on stdout. Run without mpirun, that line is
#   all of stderr (under mpirun, the launcher adds its own lines about the non-zero exit).
set -u
program=$1 message_re=$2
shift 2
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
timeout 240 "$@" >"$out" 2>"$err"
rc=$?
fail=0
if [[ $rc -ne 2 ]]; then echo "expected exit 2, got $rc"; fail=1; fi
lines=$(grep -c "^$program: error: " "$err")
if [[ $lines -ne 1 ]]; then echo "expected one '$program: error:' line on stderr, got $lines"; fail=1; fi
line=$(grep -m1 "^$program: error: " "$err")
if ! grep -Eq -- "$message_re" <<<"$line"; then echo "the error line does not match: $message_re"; fail=1; fi
if [[ $line != *"(see $program --help)" ]]; then echo "the error line does not end in '(see $program --help)'"; fail=1; fi
if [[ $(basename "$1") != mpi* && $(wc -l <"$err") -ne 1 ]]; then echo "stderr is not one line"; fail=1; fi
if [[ -s $out ]]; then echo "stdout is not empty"; fail=1; fi
if [[ $fail -ne 0 ]]; then
  echo "--- command: $*"; echo "--- stdout:"; cat "$out"; echo "--- stderr:"; cat "$err"
  exit 1
fi
echo "ok: $*"
