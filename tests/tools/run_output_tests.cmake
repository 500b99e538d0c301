# What ferry run writes: digests, dumped IDs, saved state, the stats file (copies per path), and the send
# pool's and ferry-launch's runs.

# Without --digest nothing is hashed and no digest line is printed (the figures time the pipeline alone).
set(_out ${CMAKE_CURRENT_BINARY_DIR}/no_digest.out)
ferry_tool_test(ferry_run_no_digest_unless_asked 5 tooldata bash -c
  "${_mpirun} -n 5 ${_ferry} run ${_run_text} >${_out} && grep -q '^default  *1 ' ${_out} && ! grep '^digest ' ${_out}")
# --dump-ids: each consumer of ferry run (both transports) writes the IDs LocalLoader gives rank C of ferry local.
ferry_tool_test(ferry_run_dump_ids_match_local 5 tooldata ${CMAKE_CURRENT_SOURCE_DIR}/same_ids.sh
  ${CMAKE_CURRENT_BINARY_DIR}/ids 2
  "${_mpirun} -n 2 ${_ferry} local ${_run_text}"
  "${_mpirun} -n 5 ${_ferry} run ${_run_text}"
  "${_mpirun} -n 5 ${_ferry} run ${_run_text} --runtime.transport mpi")
ferry_tool_test(ferry_local_dump_ids_unwritable 2 tooldata ${_expect} nonzero - "cannot write /nonexistent/ids.0"
  ${_mpi} 2 ${_ferry} local ${_img_flags} --dump-ids /nonexistent/ids)
ferry_tool_test(ferry_run_dump_ids_unwritable 5 tooldata ${_expect} nonzero - "cannot write /nonexistent/ids.[01]"
  ${_mpi} 5 ${_ferry} run ${_img_flags} --dump-ids /nonexistent/ids)
ferry_tool_test(ferry_run_save_state_unwritable 5 tooldata ${_expect} nonzero -
  "--save-state: cannot write /nonexistent/state.[01].tmp" ${_mpi} 5 ${_ferry} run ${_img_flags} --save-state /nonexistent/state)
# Every stats_file line is a JSON object, with monitoring windows and rebalance points (4 service ranks,
# rebalancing on, windows of 10 ms, consumers training 3 ms per batch) next to the epoch, consumer and serve
# lines, and the RSS of every rank at every epoch (perf/soak.sh reads them).
ferry_tool_test(ferry_run_stats_file_is_json_lines 6 tooldata ${CMAKE_CURRENT_SOURCE_DIR}/stats_json.sh
  ${CMAKE_CURRENT_BINARY_DIR}/stats.jsonl window,rebalance,epoch,consumer_epoch,serve,rss prepare,augment
  ${_mpi} 6 ${_ferry} run ${_run_flags} --epochs 3 --runtime.transformers 2 --monitor.rebalance true
  --monitor.window_ms 10 --step-ms 3 --runtime.stats_file ${CMAKE_CURRENT_BINARY_DIR}/stats.jsonl)
# ... with the directory on 2 randomizers (runtime.directory_shards): each writes its rss line every epoch.
ferry_tool_test(ferry_run_stats_file_directory_shards 7 tooldata ${CMAKE_CURRENT_SOURCE_DIR}/stats_json.sh
  ${CMAKE_CURRENT_BINARY_DIR}/stats_shards.jsonl epoch,consumer_epoch,serve,rss -
  ${_mpi} 7 ${_ferry} run ${_run_flags} --epochs 3 --runtime.transformers 2 --runtime.randomizers 2
  --runtime.directory_shards 2 --runtime.stats_file ${CMAKE_CURRENT_BINARY_DIR}/stats_shards.jsonl)
# Copies per path (docs/runtime.md): counts from the stats file, both transports; entries of 200 B (two small
# fields: hits through staging, 2 copies; misses in messages) and of 76,808 B (hits straight into the batch,
# 1 copy; misses through the send pool, written there by the prepare chain (image=cast) or copied in once, or in
# messages with runtime.send_pool_bytes = 0).
set(_copies ${CMAKE_CURRENT_SOURCE_DIR}/copy_counts.sh)
foreach(_transport ucx mpi)
  ferry_tool_test(ferry_run_copy_counts_small_${_transport} 5 tooldata ${_copies}
    ${CMAKE_CURRENT_BINARY_DIR}/copies_small_${_transport}.jsonl 2 message
    ${_mpi} 5 ${_ferry} run ${_img_flags} --epochs 2 --runtime.transport ${_transport}
    --runtime.stats_file ${CMAKE_CURRENT_BINARY_DIR}/copies_small_${_transport}.jsonl)
  ferry_tool_test(ferry_run_copy_counts_large_${_transport} 5 tooldata ${_copies}
    ${CMAKE_CURRENT_BINARY_DIR}/copies_large_${_transport}.jsonl 1 pool
    ${_mpi} 5 ${_ferry} run ${_large_flags} --runtime.transport ${_transport}
    --runtime.stats_file ${CMAKE_CURRENT_BINARY_DIR}/copies_large_${_transport}.jsonl)
  ferry_tool_test(ferry_run_copy_counts_large_prepared_${_transport} 5 tooldata ${_copies}
    ${CMAKE_CURRENT_BINARY_DIR}/copies_large_p_${_transport}.jsonl 1 pool
    ${_mpi} 5 ${_ferry} run ${_large_flags} --prepare image=cast --runtime.transport ${_transport}
    --runtime.stats_file ${CMAKE_CURRENT_BINARY_DIR}/copies_large_p_${_transport}.jsonl)
  ferry_tool_test(ferry_run_copy_counts_large_no_pool_${_transport} 5 tooldata ${_copies}
    ${CMAKE_CURRENT_BINARY_DIR}/copies_large_np_${_transport}.jsonl 1 message
    ${_mpi} 5 ${_ferry} run ${_large_flags} --runtime.transport ${_transport} --runtime.send_pool_bytes 0
    --runtime.stats_file ${CMAKE_CURRENT_BINARY_DIR}/copies_large_np_${_transport}.jsonl)
endforeach()
# One-sided miss delivery (roles/send_pool.hpp): entries of 307,208 B go through the transformers' send
# pools and give ferry local's batches over both transports, with a pool that holds one batch (the others go
# in messages, however the timing falls), and with 2 transformers of which one serves the cache in epoch 1
# (scripted): it stores entries it gets from the other's pool, and keeps its own pool when it changes role.
set(_pool_text "--dataset.files ${_data}/img_large.h5 --dataset.fields image=/images,label=/labels --batch_size 4 --epochs 3 --prepare 'image=cast | hwc_to_chw' --augment image=random_flip --runtime.cache_bytes 4000000")
ferry_tool_test(ferry_run_send_pool_matches_local 6 tooldata ${CMAKE_CURRENT_SOURCE_DIR}/same_digests.sh
  "${_mpirun} -n 2 ${_ferry} local ${_pool_text} --digest"
  "${_mpirun} -n 5 ${_ferry} run ${_pool_text} --digest"
  "${_mpirun} -n 5 ${_ferry} run ${_pool_text} --runtime.transport mpi --digest"
  "${_mpirun} -n 5 ${_ferry} run ${_pool_text} --runtime.send_pool_bytes 1229056 --digest"
  "${_mpirun} -n 6 ${_ferry} run ${_pool_text} --runtime.transformers 2 --monitor.rebalance true --monitor.role_policy scripted --monitor.role_script 'epoch 1: rank 3 -> cache_server\; epoch 2: rank 3 -> transformer' --digest")
ferry_tool_test(ferry_run_layout_error 3 tooldata ${_expect} 1 - "ferry: error: runtime: 3 rank.s. leave no consumer"
  ${_mpi} 3 ${_ferry} run ${_img_flags})
# ferry-launch: the mpirun line from a config's layout, and real runs in library and MPMD mode.
set(TOOLS_DATA ${_data})
configure_file(launch.toml.in ${CMAKE_CURRENT_BINARY_DIR}/launch.toml @ONLY)
set(_launch "${PROJECT_SOURCE_DIR}/mpi_launchers/ferry-launch")
set(_launch_env "FERRY_BIN_DIR=$<TARGET_FILE_DIR:ferry_cli>")
ferry_tool_test(ferry_launch_dry_run 1 none ${_expect} 0 "-n 3 .*ferry-serve --config .*launch.toml : -n 4 ./train" -
  ${CMAKE_COMMAND} -E env ${_launch_env} ${_launch} --config ${CMAKE_CURRENT_BINARY_DIR}/launch.toml --consumers 4
  --mpmd --dry-run -- ./train)
ferry_tool_test(ferry_launch_bad_option 1 none ${_expect} nonzero - "ferry-launch: error: --consumers must be a positive integer"
  ${CMAKE_COMMAND} -E env ${_launch_env} ${_launch} --config ${CMAKE_CURRENT_BINARY_DIR}/launch.toml --consumers x)
ferry_tool_test(ferry_launch_library_and_mpmd 5 tooldata ${CMAKE_CURRENT_SOURCE_DIR}/same_digests.sh
  "${_mpirun} -n 2 ${_ferry} local --config ${CMAKE_CURRENT_BINARY_DIR}/launch.toml --digest"
  "${_launch_env} ${_launch} --config ${CMAKE_CURRENT_BINARY_DIR}/launch.toml --consumers 2 -- ${_ferry} run --config ${CMAKE_CURRENT_BINARY_DIR}/launch.toml --digest"
  "${_launch_env} ${_launch} --config ${CMAKE_CURRENT_BINARY_DIR}/launch.toml --consumers 2 --mpmd -- ${_ferry} run --config ${CMAKE_CURRENT_BINARY_DIR}/launch.toml --digest")
