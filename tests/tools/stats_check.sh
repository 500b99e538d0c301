# Sourced by the tests that run a job writing runtime.stats_file and then check that file with a Python script
# (copy_counts.sh, inserts_in_flight.sh, message_buffers.sh, read_ahead_budget.sh, stats_json.sh).
# run_then_check N STATS_FILE ARG... COMMAND... <<'PY': removes STATS_FILE (lines of an earlier run must not
# count), runs COMMAND (what follows the first N arguments) with its standard output dropped and no standard
# input, then the Python script on standard input with the first N arguments as sys.argv[1:], under Debian's
# /usr/bin/python3 where there is one (python3 on PATH otherwise). A failing COMMAND ends the test with its
# exit status, before any check; one that wrote no STATS_FILE, with a line saying so.
run_then_check() {
  local n=$1
  shift
  local check=("${@:1:n}")
  shift "$n"
  rm -f "${check[0]}"
  "$@" </dev/null >/dev/null || exit $?
  [[ -f ${check[0]} ]] || { echo "${check[0]}: not written by $*" >&2; exit 1; }
  local py=/usr/bin/python3
  [[ -x $py ]] || py=python3
  "$py" - "${check[@]}"
}
