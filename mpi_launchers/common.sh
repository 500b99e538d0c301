# Shared by the launcher scripts: paths, build, and an mpirun that works as root and oversubscribed.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${FERRY_BUILD_DIR:-$root/build}
jobs=${FERRY_BUILD_JOBS:-$(nproc)}

ferry_configure() {
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=${FERRY_BUILD_TYPE:-RelWithDebInfo} "$@" >"$build.configure.log" 2>&1 || {
    cat "$build.configure.log" >&2
    echo "cmake configure failed (log above)" >&2
    return 1
  }
  grep -A14 "Ferry .* configuration" "$build.configure.log" | sed 's/^-- //' >&2 || true
}

# ferry_mpirun N PROGRAM ARGS...: mpirun with the flags this machine needs.
ferry_mpirun() {
  local n=$1
  shift
  local flags=(--oversubscribe)
  [[ $(id -u) -eq 0 ]] && flags+=(--allow-run-as-root)
  mpirun -n "$n" "${flags[@]}" "$@"
}
