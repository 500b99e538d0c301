# 32-rank runs in pretend nodes, and perf/gpu_check.sh's usage here.

# A wide run (issue 16, docs/scaling.md): 32 ranks oversubscribed in 4 pretend nodes (2 randomizers, a cache
# server a node, 8 transformers, 18 consumers), two pipelines: digests and IDs equal `ferry local`, every ID
# exactly once per epoch, and the coordinator hears only randomizers and node stats leaders. Label "wide"
# (ctest -LE wide leaves it out); perf/wide.sh runs the same script from 4 to 64 ranks.
ferry_tool_test(ferry_run_wide_32_ranks 32 none ${CMAKE_CURRENT_SOURCE_DIR}/wide_run.sh ${CMAKE_BINARY_DIR}
  ${CMAKE_CURRENT_BINARY_DIR}/wide 32)
set_tests_properties(ferry_run_wide_32_ranks PROPERTIES LABELS "tools;wide" RUN_SERIAL TRUE)
# The same with each cache ID's directory on 2 randomizers (runtime.directory_shards): 4 randomizers, one
# shard of one cache ID each, 16 consumers.
ferry_tool_test(ferry_run_wide_32_ranks_directory_shards 32 none ${CMAKE_COMMAND} -E env SHARDS=2
  ${CMAKE_CURRENT_SOURCE_DIR}/wide_run.sh ${CMAKE_BINARY_DIR} ${CMAKE_CURRENT_BINARY_DIR}/wide_shards 32)
set_tests_properties(ferry_run_wide_32_ranks_directory_shards PROPERTIES LABELS "tools;wide" RUN_SERIAL TRUE)

# perf/gpu_check.sh (docs/heterogeneous.md, "Running the GPU check") runs only on a lent GPU machine; here:
# its usage, and `run` without a bundle stops before doing anything.
set(_gpu_check ${PROJECT_SOURCE_DIR}/perf/gpu_check.sh)
ferry_tool_test(gpu_check_usage 1 none ${_expect} 2 - "gpu_check.sh pack \\[--build-dir DIR\\]" bash ${_gpu_check} bogus)
ferry_tool_test(gpu_check_run_without_bundle 1 none ${_expect} 1 - "no /nonexistent/b.tar.xz: run 'perf/gpu_check.sh pack'"
  ${CMAKE_COMMAND} -E env FERRY_GPU_BUNDLE=/nonexistent/b.tar.xz bash ${_gpu_check} run --out ${CMAKE_CURRENT_BINARY_DIR}/gpu_check_out)
