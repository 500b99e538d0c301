# The read path: a corrupt sample file, read-ahead, reused message buffers and cache inserts in flight.

# A sample file that is corrupt on disk: the transformer that reads it fails, every rank exits non-zero
# (no hang) and the message names the rank, its role and the file.
add_test(NAME tools_corrupt_sample_data
         COMMAND bash -c "rm -rf ${_data}/broken && ${_gen} cosmoflow --out ${_data}/broken --samples 12 --cosmo-width 4 && truncate -s 600 ${_data}/broken/sample_000007.h5")
set_tests_properties(tools_corrupt_sample_data PROPERTIES FIXTURES_SETUP brokendata LABELS tools)
foreach(_transport ucx mpi)
  ferry_tool_test(ferry_run_failure_reaches_every_rank_${_transport} 5 brokendata ${_expect} nonzero -
    "rank 2 .transformer.: .*sample_000007.h5"
    ${_mpi} 5 ${_ferry} run --runtime.transport ${_transport} --dataset.layout file_per_sample --dataset.files ${_data}/broken
    --dataset.fields full=full --batch_size 2 --epochs 2)
endforeach()

# Read-ahead (docs/runtime.md): off, at a budget of about one sample (each miss list read alone), with two
# prepare workers and at the default, every epoch cold (no cache), the batches are those of ferry local; the
# reader never holds more than its budget (200 B: every list of 8 samples, 1,568 B, read alone; 5,000 B: up
# to three lists).
set(_cold "--runtime.cache_bytes 0")
ferry_tool_test(ferry_run_read_ahead_matches_local 6 tooldata ${CMAKE_CURRENT_SOURCE_DIR}/same_digests.sh
  "${_mpirun} -n 2 ${_ferry} local ${_run_text} --digest"
  "${_mpirun} -n 5 ${_ferry} run ${_run_text} ${_cold} --runtime.read_ahead_bytes 0 --digest"
  "${_mpirun} -n 5 ${_ferry} run ${_run_text} ${_cold} --runtime.read_ahead_bytes 200 --digest"
  "${_mpirun} -n 5 ${_ferry} run ${_run_text} ${_cold} --runtime.read_ahead_bytes 200 --runtime.transform_workers 2 --digest"
  "${_mpirun} -n 6 ${_ferry} run ${_run_text} --runtime.transformers 2 --runtime.transport mpi --digest")
foreach(_budget 200 5000)
  ferry_tool_test(ferry_run_read_ahead_budget_${_budget} 5 tooldata ${CMAKE_CURRENT_SOURCE_DIR}/read_ahead_budget.sh
    ${CMAKE_CURRENT_BINARY_DIR}/read_ahead_${_budget}.jsonl ${_budget}
    ${_mpi} 5 ${_ferry} run ${_run_flags} --runtime.cache_bytes 0 --runtime.read_ahead_bytes ${_budget}
    --runtime.transform_workers 2 --runtime.stats_file ${CMAKE_CURRENT_BINARY_DIR}/read_ahead_${_budget}.jsonl)
endforeach()
# Message payloads kept for reuse (docs/runtime.md, "Message buffers"): at the default budget the consumers
# reuse them, with 0 nothing is kept; the digests with 0 are ferry_run_matches_local_and_mpmd's.
foreach(_budget 0 67108864)
  ferry_tool_test(ferry_run_message_buffers_${_budget} 5 tooldata ${CMAKE_CURRENT_SOURCE_DIR}/message_buffers.sh
    ${CMAKE_CURRENT_BINARY_DIR}/message_buffers_${_budget}.jsonl ${_budget}
    ${_mpi} 5 ${_ferry} run ${_run_flags} --runtime.message_buffer_bytes ${_budget}
    --runtime.stats_file ${CMAKE_CURRENT_BINARY_DIR}/message_buffers_${_budget}.jsonl)
endforeach()
# Cache inserts in flight (docs/cache.md, "Inserts in flight"): no batch described while the backlog of
# credited batches' inserts is at the bound (at 1 byte: while any is unacked), none held with no bound; the
# digests at 1 byte are ferry_run_matches_local_and_mpmd's.
foreach(_bound 0 1)
  ferry_tool_test(ferry_run_inserts_in_flight_${_bound} 5 tooldata ${CMAKE_CURRENT_SOURCE_DIR}/inserts_in_flight.sh
    ${CMAKE_CURRENT_BINARY_DIR}/inserts_in_flight_${_bound}.jsonl ${_bound}
    ${_mpi} 5 ${_ferry} run ${_run_flags} --runtime.inserts_in_flight_bytes ${_bound}
    --runtime.stats_file ${CMAKE_CURRENT_BINARY_DIR}/inserts_in_flight_${_bound}.jsonl)
endforeach()
# A read that fails on the reader thread ends the job with the line a read on the progress thread gives
# (ferry_run_failure_reaches_every_rank_* runs with read-ahead at its default).
ferry_tool_test(ferry_run_read_ahead_off_failure_reaches_every_rank 5 brokendata ${_expect} nonzero -
  "rank 2 .transformer.: .*sample_000007.h5"
  ${_mpi} 5 ${_ferry} run --dataset.layout file_per_sample --dataset.files ${_data}/broken
  --dataset.fields full=full --batch_size 2 --epochs 2 --runtime.read_ahead_bytes 0)
