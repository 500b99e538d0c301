# The checks of `perf/gpu_check.sh run` (sourced by it; see its header). Each check is a function that
# writes its log to stdout and one line of detail to $detail, and returns 0 (pass), 77 (skipped) or another
# status (failed); run_checks gives each one a deadline and a row in summary.md.

dest=/tmp/ferry-gpu
gpu_suites='WorkerQueue*:Accelerator*:Target*:DeviceProgram*:CudaLauncher*'
# The end-to-end runs: an image set, a prepare chain and an augment op that both have device kernels.
e2e_flags() {
  echo --dataset.files "$work/img.h5" --dataset.fields image=/images,label=/labels --batch_size 16 --epochs 3 \
    --prepare "'image=cast(scale=0.00392156862745098) | normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])'" \
    --augment "'image=random_flip'" --digest
}

# find_nccl: the directory of the GPU machine's libnccl.so.2 (empty when the loader finds it already).
find_nccl() {
  ldconfig -p 2>/dev/null | grep -q 'libnccl\.so\.2 ' && return 0
  local dir
  dir=$(python3 -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "lib"))' 2>/dev/null)
  [[ -n $dir && -f $dir/libnccl.so.2 ]] ||
    dir=$(dirname "$(find /usr/local /opt /usr/lib -name libnccl.so.2 \( -type f -o -type l \) -print -quit 2>/dev/null)")
  [[ $dir != . ]] && echo "$dir"
}

check_machine() {
  nvidia-smi || true
  local gpu
  gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)
  echo "bundle commit $(cat "$dest/COMMIT"); nproc $(nproc); NCCL from ${nccl_dir:-the default library path}"
  echo "GPU: $gpu; bundle $(cut -c1-10 "$dest/COMMIT"); NCCL ${nccl_dir:-(ldconfig)}" >"$detail"
  nvidia-smi -L >/dev/null 2>&1
}

check_libraries() {
  local missing
  missing=$(ldd "$dest"/bin/* 2>&1 | tee /dev/stderr | grep 'not found' | sort -u)
  [[ -z $missing ]] && { echo "every program loads" >"$detail"; return 0; }
  echo "missing: $(echo "$missing" | awk '{print $1}' | tr '\n' ' ')" >"$detail"
  return 1
}

check_gpu_tests() {
  "$dest/bin/test_transform" --gtest_filter="$gpu_suites" --gtest_color=no
  local rc=$? log
  log=$(cat "$log_file")
  local ok skipped no_gpu
  ok=$(grep -c '^\[       OK \]' <<<"$log")
  skipped=$(grep -c '^\[  SKIPPED \]' <<<"$log")
  no_gpu=$(grep -ciE 'skipped.*(no GPU|no CUDA|no accelerator|NVML not available)|(no GPU|no CUDA device|no accelerator here|NVML not available)' <<<"$log")
  echo "$ok passed, $skipped skipped ($no_gpu for want of a GPU or NVML), exit $rc" >"$detail"
  [[ $rc -eq 0 && $no_gpu -eq 0 ]]
}

check_bench_device() {
  "$dest/bin/bench_device" --benchmark_color=false || return 1
  local ratios
  ratios=$(grep -iE '^ *(ratio|[a-z_]+ +[0-9.]+x)' "$log_file" | tr -s ' ' | tr '\n' ';')
  echo "${ratios:-no ratio printed: see bench_device.log}" >"$detail"
  grep -q 'ERROR OCCURRED' "$log_file" && return 1
  return 0
}

# e2e LABEL EXTRA_FLAGS: ferry local on 2 ranks (CPU) against ferry run on 5 ranks with the GPU.
e2e() {
  local label=$1 extra=$2 flags
  flags=$(e2e_flags)
  [[ -f $work/img.h5 ]] || "$dest/bin/ferry-gen" image --out "$work/img.h5" --samples 1024 --height 64 --width 64 || return 1
  local local_out run_out
  local_out=$(eval mpirun -np 2 "$dest/bin/ferry" local "$flags") || { echo "ferry local failed" >"$detail"; return 1; }
  echo "$local_out"
  run_out=$(eval mpirun -np 5 "$dest/bin/ferry" run "$flags $extra" --log_level info --monitor.policy static \
    --monitor.static_share 1 2>&1)
  local rc=$?
  echo "$run_out"
  local want got opened
  want=$(grep '^digest ' <<<"$local_out")
  got=$(grep '^digest ' <<<"$run_out")
  opened=$(grep -cE 'accelerator .* for [0-9]+ pipeline' <<<"$run_out")
  echo "$label: exit $rc; digest ${got:-none} vs ferry local ${want:-none}; accelerator opened on $opened rank(s)" >"$detail"
  [[ $rc -eq 0 && -n $want && $want == "$got" && $opened -ge 1 ]] && return 0
  # NCCL refuses two ranks of one communicator on the same GPU: not a Ferry failure on a one-GPU machine.
  if [[ $(nvidia-smi -L 2>/dev/null | grep -c '^GPU') -lt 2 ]] && grep -qi 'duplicate GPU' <<<"$run_out"; then
    echo "$label: NCCL refused two ranks on the one GPU (needs a machine with 2 GPUs); exit $rc" >"$detail"
    return 77
  fi
  return 1
}
check_run_prepare() { e2e "prepare and augment on the GPU" ""; }
check_run_device_batches() { e2e "device batches (NCCL)" "--runtime.device_batches true"; }

# check NAME SECONDS: runs check_NAME under a deadline, logs to $out/NAME.log, adds its row to the summary.
# Each check gets its own deadline, cut to what is left of the run's (FERRY_GPU_CHECK_SECONDS, default 420:
# the device call's timeout_s of 480 less the unpacking and a margin), so a hung check cannot take the rest.
check() {
  local name=$1 seconds=$2 start rc left
  detail=$work/$name.detail log_file=$out/$name.log
  : >"$detail"
  start=$(date +%s)
  left=$((deadline - start))
  if ((left < 15)); then
    printf '| %s | not run: the run is out of time | 0 | |\n' "$name" >>"$summary"
    failed=$((failed + 1))
    return
  fi
  ((seconds <= left)) || seconds=$left
  export -f "check_$name" e2e e2e_flags
  export dest work detail log_file gpu_suites nccl_dir
  timeout --kill-after=10 "$seconds" bash -c "check_$name" >"$log_file" 2>&1
  rc=$?
  local result=passed
  case $rc in 0) ;; 77) result=skipped ;; 124 | 137) result="failed: over its ${seconds} s" ;; *) result="failed ($rc)" ;; esac
  [[ $result == passed || $result == skipped ]] || failed=$((failed + 1))
  printf '| %s | %s | %s | %s |\n' "$name" "$result" "$(($(date +%s) - start))" "$(tr '|' '/' <"$detail")" >>"$summary"
  echo "gpu_check: $name: $result" >&2
}

run_checks() {
  out=${OUT:-$root/perf/results/gpu-$(date +%F)}
  [[ ${1:-} == --out ]] && { out=$(realpath -m "${2:?--out DIR}"); shift 2; }
  [[ $# -eq 0 ]] || usage
  [[ -f $bundle ]] || { echo "gpu_check.sh: no $bundle: run 'perf/gpu_check.sh pack' where it builds, then carry .gpu" >&2; exit 1; }
  mkdir -p "$out"
  rm -rf "$dest" && tar -C "${dest%/*}" -xJf "$bundle" || { echo "gpu_check.sh: cannot unpack $bundle" >&2; exit 1; }
  work=$(mktemp -d)
  nccl_dir=$(find_nccl)
  export LD_LIBRARY_PATH=$dest/lib${nccl_dir:+:$nccl_dir}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  # Open MPI relocates with OPAL_PREFIX; Debian's PMIx keeps absolute paths, so its components are named.
  export OPAL_PREFIX=$dest/ompi PMIX_PREFIX=$dest/pmix PMIX_MCA_mca_base_component_path=$dest/pmix/lib/pmix
  export PATH=$dest/ompi/bin:$PATH
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
  export NCCL_DEBUG=${NCCL_DEBUG:-WARN}  # NCCL's own reason for a refusal goes in the log
  summary=$out/summary.md failed=0 begin=$(date +%s)
  deadline=$((begin + ${FERRY_GPU_CHECK_SECONDS:-420}))
  # The last line of the summary, also when the run is stopped (SIGTERM from a deadline outside).
  trap 'printf "\n%d check(s) failed; %d s in all. Logs beside this file.\n" "$failed" "$(($(date +%s) - begin))" >>"$summary"' EXIT
  trap 'exit 143' TERM INT
  { echo "# GPU check, $(date -u "+%F %H:%M UTC"), $(uname -n)"; echo
    echo "| check | result | seconds | detail |"; echo "|---|---|---|---|"; } >"$summary"
  check machine 30
  check libraries 30
  check gpu_tests 120
  check bench_device 150
  check run_prepare 150
  check run_device_batches 150
  trap - EXIT
  printf '\n%d check(s) failed; %d s in all. Logs beside this file.\n' "$failed" "$(($(date +%s) - begin))" >>"$summary"
  cat "$summary"
  rm -rf "$work"
  [[ $failed -eq 0 ]]
}
