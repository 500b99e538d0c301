# A lost or stopped rank, in library and MPMD mode and during the set-up, and a resumed job.

# A lost rank (docs/errors.md): kill -9 or SIGSTOP of each role mid-epoch, with mpirun told not to end the
# job when a rank dies (as srun without --kill-on-bad-exit): every other rank names the lost one and exits.
set(_lose_flags ${_img_flags} --epochs 500 --step-ms 20 --runtime.peer_timeout_s 4)
set(_lose_roles randomizer cache_server transformer consumer)
foreach(_transport ucx mpi)
  foreach(_signal KILL STOP)
    foreach(_victim 0 1 2 3)
      list(GET _lose_roles ${_victim} _role)
      set(_stats ${CMAKE_CURRENT_BINARY_DIR}/lose_${_transport}_${_signal}_${_victim}.jsonl)
      ferry_tool_test(ferry_run_lose_${_role}_${_signal}_${_transport} 5 tooldata
        ${CMAKE_CURRENT_SOURCE_DIR}/lose_rank.sh ${_signal} ${_victim} ${_role} ${_stats}
        ${_mpi} 5 --mca orte_abort_on_non_zero_status 0 ${_ferry} run ${_lose_flags}
        --runtime.transport ${_transport} --runtime.stats_file ${_stats})
    endforeach()
  endforeach()
endforeach()
# A rank lost during the set-up: the dataset's list file is a FIFO nobody writes, so every rank that opens
# the datasets blocks there (as on a stalled parallel file system) once its liveness thread runs; then the
# transformer is killed. The others, blocked in open() or a set-up collective, are ended by their liveness
# threads with the line.
set(_fifo ${CMAKE_CURRENT_BINARY_DIR}/setup_fifo.list)
ferry_tool_test(ferry_run_lose_transformer_KILL_in_setup 5 none
  ${CMAKE_CURRENT_SOURCE_DIR}/lose_rank.sh KILL 2 transformer setup bash -c
  "rm -f ${_fifo} && mkfifo ${_fifo} && exec ${_mpirun} -n 5 --mca orte_abort_on_non_zero_status 0 ${_ferry} run --dataset.layout file_per_sample --dataset.files ${_fifo} --dataset.fields image=/images --runtime.peer_timeout_s 4")
# The same in MPMD mode (ferry-serve ranks 0-2 beside the consumer program, ranks 3-4): each role killed and
# stopped, over both transports.
foreach(_transport ucx mpi)
  foreach(_case "0;randomizer" "1;cache_server" "2;transformer" "3;consumer")
    foreach(_signal KILL STOP)
      list(GET _case 0 _victim)
      list(GET _case 1 _role)
      set(_stats ${CMAKE_CURRENT_BINARY_DIR}/lose_mpmd_${_transport}_${_signal}_${_victim}.jsonl)
      # --step-ms is the consumer program's flag (ferry run), not ferry-serve's.
      set(_side ${_img_flags} --epochs 500 --runtime.peer_timeout_s 4 --runtime.transport ${_transport}
          --runtime.stats_file ${_stats})
      ferry_tool_test(ferry_mpmd_lose_${_role}_${_signal}_${_transport} 5 tooldata
        ${CMAKE_CURRENT_SOURCE_DIR}/lose_rank.sh ${_signal} ${_victim} ${_role} ${_stats}
        ${MPIEXEC_EXECUTABLE} --oversubscribe --mca orte_abort_on_non_zero_status 0 -n 3 ${_serve} ${_side}
        : -n 2 ${_ferry} run ${_side} --step-ms 20)
    endforeach()
  endforeach()
endforeach()
# A job killed mid-epoch resumes from the state its consumers saved (--save-state): kill -9 of a consumer
# (UCX) and of the transformer (MPI) once consumer 0 is in epoch 1, the job ending by itself; the run resumed at
# the consumers' earliest saved position gives each consumer the uninterrupted run's IDs from there on.
foreach(_case "ucx;3" "mpi;2")
  list(GET _case 0 _transport)
  list(GET _case 1 _victim)
  ferry_tool_test(ferry_run_resume_after_kill_${_transport} 5 tooldata ${CMAKE_CURRENT_SOURCE_DIR}/resume_after_kill.sh
    ${CMAKE_CURRENT_BINARY_DIR}/resume_${_transport} ${_victim} 2 "${_mpirun} -n 5" ${_ferry} run ${_img_flags}
    --epochs 20 --runtime.transport ${_transport} --runtime.peer_timeout_s 4)
endforeach()
