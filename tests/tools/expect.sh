#!/usr/bin/env bash
# expect.sh EXIT STDOUT_REGEX STDERR_REGEX COMMAND...
#   EXIT is 0, nonzero or an exact exit code (2: a usage error, docs/errors.md); a regex of "-" is not checked (CMake drops empty arguments). Fails with the command's output when any check fails.
set -u
want=$1 out_re=$2 err_re=$3
shift 3
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
timeout 240 "$@" >"$out" 2>"$err"
rc=$?
fail=0
if [[ $want == 0 && $rc -ne 0 ]]; then echo "expected exit 0, got $rc"; fail=1; fi
if [[ $want == nonzero && $rc -eq 0 ]]; then echo "expected a non-zero exit, got 0"; fail=1; fi
if [[ $want =~ ^[1-9][0-9]*$ && $rc -ne $want ]]; then echo "expected exit $want, got $rc"; fail=1; fi
if [[ $rc -eq 124 ]]; then echo "command hung (timeout)"; fail=1; fi
if [[ $out_re != - ]] && ! grep -Eq -- "$out_re" "$out"; then echo "stdout does not match: $out_re"; fail=1; fi
if [[ $err_re != - ]] && ! grep -Eq -- "$err_re" "$err"; then echo "stderr does not match: $err_re"; fail=1; fi
if [[ $fail -ne 0 ]]; then
  echo "--- command: $*"; echo "--- stdout:"; cat "$out"; echo "--- stderr:"; cat "$err"
  exit 1
fi
echo "ok: $*"
