#!/usr/bin/env bash
# same_digest.sh COMMAND...: runs COMMAND twice and checks both runs print the same non-empty digest lines.
set -eu
a=$("$@" | grep '^digest ')
b=$("$@" | grep '^digest ')
[[ -n $a ]] || { echo "no digest printed"; exit 1; }
[[ "$a" == "$b" ]] || { printf 'digests differ:\n%s\n---\n%s\n' "$a" "$b"; exit 1; }
echo "$a"
