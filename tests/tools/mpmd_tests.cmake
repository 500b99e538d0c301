# Library mode, MPMD mode (ferry-serve beside the training program) and ferry local agree; MPMD sides that
# disagree, or a side that never reaches the set-up, end every rank.

# The multi-rank system from the command line: library mode over both transports, MPMD mode (ferry-serve
# beside the consumers) and ferry local deliver the same batches.
ferry_tool_test(ferry_run_matches_local_and_mpmd 5 tooldata ${CMAKE_CURRENT_SOURCE_DIR}/same_digests.sh
  "${_mpirun} -n 2 ${_ferry} local ${_run_text} --digest"
  "${_mpirun} -n 5 ${_ferry} run ${_run_text} --digest"
  "${_mpirun} -n 5 ${_ferry} run ${_run_text} --runtime.transport mpi --digest"
  "${_mpirun} -n 5 ${_ferry} run ${_run_text} --runtime.message_buffer_bytes 0 --digest"
  "${_mpirun} -n 5 ${_ferry} run ${_run_text} --runtime.inserts_in_flight_bytes 1 --digest"
  "${_mpirun} -n 3 ${_serve} ${_run_text} : -n 2 ${_ferry} run ${_run_text} --digest")
# MPMD sides that disagree on the config: every rank (3 ferry-serve, 2 ferry run) prints one line naming the
# differing key (once) with each side's value and ranks, and exits non-zero, none left waiting (epochs and transport
# hung, seed ran with data matching neither seed, batch_size ended with a consumer blamed).
string(JOIN " " _img_text ${_img_flags})
function(ferry_mpmd_config_test key serve_flag run_flag pattern)
  ferry_tool_test(ferry_mpmd_config_differs_${key} 5 tooldata ${CMAKE_CURRENT_SOURCE_DIR}/every_rank.sh 5
    "${pattern}" bash -c
    "${_mpirun} -n 3 ${_serve} ${_img_text} ${serve_flag} : -n 2 ${_ferry} run ${_img_text} ${run_flag}")
endfunction()
ferry_mpmd_config_test(epochs "--epochs 1" "--epochs 3" "config\\): pipeline\\[0\\]\\.epochs = 1 on ranks 0-2 but 3 on ranks 3-4$")
ferry_mpmd_config_test(transport "--runtime.transport mpi" "--runtime.transport ucx"
  "config\\): runtime\\.transport = .mpi. on ranks 0-2 but .ucx. on ranks 3-4$")
ferry_mpmd_config_test(seed "--seed 1" "--seed 2" "config\\): pipeline\\[0\\]\\.seed = 1 on ranks 0-2 but 2 on ranks 3-4$")
ferry_mpmd_config_test(batch_size "--batch_size 16" "--batch_size 32"
  "config\\): pipeline\\[0\\]\\.batch_size = 16 on ranks 0-2 but 32 on ranks 3-4$")
# ferry-serve stopped at its command line (a usage error, or only --help): the training program's ranks
# waited in the set-up's first collective for ever. Now they fail too; their lowest rank names the cause.
# mpirun is told not to end the job when a rank exits non-zero: every rank must end by itself, and the rank
# that names the cause is not killed before it could (under load a fast rank's exit did that once).
set(_own_end "--mca orte_abort_on_non_zero_status 0")
ferry_tool_test(ferry_mpmd_serve_usage_error 5 tooldata ${CMAKE_CURRENT_SOURCE_DIR}/every_rank.sh --any-exit 1
  "^ferry: error: ranks 0-2: ferry-serve: usage error: .*--no-such-option" bash -c
  "${_mpirun} ${_own_end} -n 3 ${_serve} ${_img_text} --no-such-option : -n 2 ${_ferry} run ${_img_text}")
# Not anchored at the line start: mpirun forwards the three ferry-serve ranks' 6 KB of help in chunks, and the
# consumer's one-line error can land after a chunk that ends mid-line (seen twice under ctest -j2).
ferry_tool_test(ferry_mpmd_serve_help 5 tooldata ${CMAKE_CURRENT_SOURCE_DIR}/every_rank.sh --any-exit 1
  "ferry: error: ranks 0-2: ferry-serve was asked for --help or --version, so it sets nothing up$" bash -c
  "${_mpirun} ${_own_end} -n 3 ${_serve} --help : -n 2 ${_ferry} run ${_img_text}")
# A rank that never reaches the set-up (here a program stuck before it creates its Runtime) used to leave the
# others blocked in the set-up's first collective for ever, before the heartbeats start. With
# runtime.setup_timeout_s they name the step and end the job themselves: mpirun is told not to.
add_executable(stall_before_runtime stall_before_runtime.cpp)
target_link_libraries(stall_before_runtime PRIVATE ferry_options MPI::MPI_C)
foreach(_transport ucx mpi)
  ferry_tool_test(ferry_run_setup_deadline_${_transport} 5 tooldata ${_expect} nonzero -
    "^ferry: error \\(rank [0-3]\\): the config agreement \\(the set-up's first collective\\) did not complete within 3 s \\(runtime.setup_timeout_s\\): a rank has not reached it"
    bash -c "${_mpirun} ${_own_end} -n 4 ${_ferry} run ${_img_text} --runtime.transport ${_transport} --runtime.setup_timeout_s 3 : -n 1 $<TARGET_FILE:stall_before_runtime>")
endforeach()
ferry_tool_test(ferry_mpmd_run_usage_error 5 tooldata ${CMAKE_CURRENT_SOURCE_DIR}/every_rank.sh --any-exit 1
  "^ferry-serve: error: ranks 3-4: ferry: usage error: .*--no-such-option" bash -c
  "${_mpirun} ${_own_end} -n 3 ${_serve} ${_img_text} : -n 2 ${_ferry} run ${_img_text} --no-such-option")
