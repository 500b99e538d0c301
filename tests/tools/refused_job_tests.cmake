# Jobs refused at set-up (nothing to deliver, memory no node holds), and no slab left in /dev/shm.

# Jobs that would deliver nothing are refused at set-up with the pipeline and why, every rank non-zero (a
# batch larger than a consumer's share crashed under UCX, 9 of 27 runs, or exited 0 with nothing delivered).
foreach(_transport ucx mpi)
  ferry_tool_test(ferry_run_nothing_to_deliver_${_transport} 5 tooldata ${_expect} nonzero -
    "error.*pipeline 'default': batch_size = 300 is larger than each consumer's share of 100 sample.s. .200 over 2 consumer.s., drop_last = true.: no consumer would get a batch"
    ${_mpi} 5 ${_ferry} run --runtime.transport ${_transport} --dataset.files ${_data}/img.h5
    --dataset.fields image=/images,label=/labels --batch_size 300)
endforeach()

# A cache no node can hold is refused before any memory is taken: one line naming runtime.cache_bytes, the
# node and the figures, every rank non-zero, and no shared-memory file made for it (1 TiB used to fill
# /dev/shm; 16 TiB is the largest value the key takes).
set(_no_shm ${CMAKE_CURRENT_SOURCE_DIR}/no_shm_left.sh)
foreach(_transport ucx mpi)
  ferry_tool_test(ferry_run_cache_beyond_node_${_transport} 5 tooldata ${_no_shm} /dev/shm/ferry_test_huge_${_transport} 1048576
    ${_expect} nonzero - "error.*runtime.cache_bytes = 17592186044416 times 1 slab.s., 0 bytes of send pools .runtime.send_pool_bytes. and 335544320 bytes of message buffers .runtime.message_buffer_bytes. on node .* need 17592521588736 bytes, but MemAvailable"
    ${_mpi} 5 ${_ferry} run --runtime.transport ${_transport} ${_img_flags} --runtime.cache_bytes 17592186044416)
endforeach()

# Send pools count too: a pool no node can hold (1 TiB on each rank that may prepare samples of 64 KiB and more:
# the 2 transformers of 6 ranks, summed over the node) is refused the same way, before any memory is taken,
# with the pools' bytes in the line.
foreach(_transport ucx mpi)
  ferry_tool_test(ferry_run_send_pools_beyond_node_${_transport} 6 tooldata ${_no_shm} /dev/shm/ferry_test_pools_${_transport} 1048576
    ${_expect} nonzero - "error.*runtime.cache_bytes = 1048576 times 1 slab.s., 2199023255552 bytes of send pools .runtime.send_pool_bytes. and 402653184 bytes of message buffers .runtime.message_buffer_bytes. on node .* need 2199426957312 bytes, but MemAvailable"
    ${_mpi} 6 ${_ferry} run --runtime.transport ${_transport} ${_large_flags} --runtime.cache_bytes 1048576
    --runtime.transformers 2 --runtime.send_pool_bytes 1099511627776)
endforeach()

# Message buffers count too: every rank may keep runtime.message_buffer_bytes of payloads (1 TiB on each of 5
# ranks here, with a 1 MiB cache and no send pool), so a budget no node can hold is refused the same way, with
# the buffers' bytes in the line. They are heap memory: no shared-memory file is made for them either.
foreach(_transport ucx mpi)
  ferry_tool_test(ferry_run_message_buffers_beyond_node_${_transport} 5 tooldata ${_no_shm} /dev/shm/ferry_test_buffers_${_transport} 1048576
    ${_expect} nonzero - "error.*runtime.cache_bytes = 1048576 times 1 slab.s., 0 bytes of send pools .runtime.send_pool_bytes. and 5497558138880 bytes of message buffers .runtime.message_buffer_bytes. on node .* need 5497559187456 bytes, but MemAvailable"
    ${_mpi} 5 ${_ferry} run --runtime.transport ${_transport} ${_img_flags} --runtime.cache_bytes 1048576
    --runtime.message_buffer_bytes 1099511627776)
endforeach()

# No cache slab outlives its job in shared memory, after an orderly end and after kill -9 of the cache server
# (rank 1) mid-job. UCX is made to keep its POSIX files named (sysv off, UCX_POSIX_USE_PROC_LINK=n), the case
# where a slab's file used to survive; slabs of 48 MiB tell it from UCX's own FIFO files.
set(_posix_env UCX_TLS=posix,cma,self UCX_POSIX_USE_PROC_LINK=n)
set(_slab_flags ${_img_flags} --runtime.transport ucx --runtime.cache_bytes 50331648)
ferry_tool_test(ferry_run_no_slab_file_left 5 tooldata ${_no_shm} /dev/shm/ferry_test_orderly 50331648
  ${CMAKE_COMMAND} -E env ${_posix_env} ${_expect} 0 "^digest default" - ${_mpi} 5 ${_ferry} run ${_slab_flags} --epochs 2 --digest)
ferry_tool_test(ferry_run_no_slab_file_left_after_kill 5 tooldata ${CMAKE_CURRENT_SOURCE_DIR}/kill_slab_holder.sh
  /dev/shm/ferry_test_kill 50331648 ${CMAKE_CURRENT_BINARY_DIR}/kill_stats.jsonl 1
  ${CMAKE_COMMAND} -E env ${_posix_env} ${_mpi} 5 ${_ferry} run ${_slab_flags} --epochs 200 --step-ms 20
  --runtime.stats_file ${CMAKE_CURRENT_BINARY_DIR}/kill_stats.jsonl)
