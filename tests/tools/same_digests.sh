#!/usr/bin/env bash
# same_digests.sh "COMMAND" "COMMAND" ...: runs each command line (through bash) and checks that all print
# the same non-empty set of "digest NAME HEX" lines.
set -u
first=""
for cmd in "$@"; do
  out=$(timeout 240 bash -c "$cmd" 2>/tmp/same_digests.$$.err)
  rc=$?
  got=$(grep '^digest [^ ]* [0-9a-f]*$' <<<"$out" | sort)
  if [[ $rc -ne 0 || -z $got ]]; then
    echo "command failed (exit $rc) or printed no digest: $cmd"; cat /tmp/same_digests.$$.err; rm -f /tmp/same_digests.$$.err
    exit 1
  fi
  if [[ -z $first ]]; then first=$got; elif [[ $got != "$first" ]]; then
    printf 'digests differ:\n%s\n--- vs (%s):\n%s\n' "$first" "$cmd" "$got"; exit 1
  fi
done
rm -f /tmp/same_digests.$$.err
echo "$first"
