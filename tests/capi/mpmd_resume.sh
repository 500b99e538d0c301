#!/usr/bin/env bash
# mpmd_resume.sh MPIEXEC FERRY_SERVE C_EXAMPLE JOB CKPT: an MPMD job (3 ferry-serve ranks, 2 ranks of the C
# example) stopped after 100 rounds with its state saved, then resumed in MPMD mode: the C program applies
# the state, ferry-serve gets the same position as flags (--start_epoch, --start_batch, --start_dataset), as
# the config agreement requires. Prints the resumed run's output (its digest covers both runs).
set -euo pipefail
mpiexec=$1 serve=$2 c=$3 job=$4 ckpt=$5
rm -f "$ckpt"*
"$mpiexec" --oversubscribe -n 3 "$serve" --config "$job" : -n 2 "$c" "$job" --stop-after 100 --save "$ckpt" >/dev/null
state=$(cat "$ckpt")
field() { sed -n "s/.* $1=\([0-9a-f]*\).*/\1/p" <<<"$state"; }
"$mpiexec" --oversubscribe -n 3 "$serve" --config "$job" --start_epoch "$(field epoch)" --start_batch "$(field batch)" \
  --start_dataset "$(field dataset)" : -n 2 "$c" "$job" --resume "$ckpt"
