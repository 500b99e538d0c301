# The directory on several randomizers (shards) and the movable augment head.

# The directory sharded by key range (runtime.directory_shards, docs/scaling.md): 2 and 3 randomizers each
# describe their key range's positions of every batch; ferry local's bytes, every sample once per epoch, the
# epoch lines equal to one randomizer's run, each shard's directory hits exactly its key range's samples
# (directory_shards.sh), also with inserts in flight bounded at 1 byte (3 shards); the cached JPEG bytes
# (variable entries) with 2 shards as without (vlen_cache.sh).
set(_shards ${CMAKE_CURRENT_SOURCE_DIR}/directory_shards.sh)
set(_shard_flags "${_run_text} --epochs 3 --batch_size 10")
ferry_tool_test(ferry_run_directory_shards_2 8 tooldata ${_shards} ${CMAKE_CURRENT_BINARY_DIR}/shards2 200 3 2
  "${_mpirun} -n 4 ${_ferry} local ${_shard_flags}"
  "${_mpirun} -n 7 ${_ferry} run ${_shard_flags}"
  "${_mpirun} -n 8 ${_ferry} run ${_shard_flags} --runtime.randomizers 2 --runtime.directory_shards 2"
  "${_mpirun} -n 8 ${_ferry} run ${_shard_flags} --runtime.randomizers 2 --runtime.directory_shards 2 --runtime.cache_policy lru --runtime.transport mpi")
set(_shard3_flags "${_run_text} --epochs 3 --batch_size 20")
ferry_tool_test(ferry_run_directory_shards_3 7 tooldata ${_shards} ${CMAKE_CURRENT_BINARY_DIR}/shards3 200 3 3
  "${_mpirun} -n 2 ${_ferry} local ${_shard3_flags}"
  "${_mpirun} -n 5 ${_ferry} run ${_shard3_flags}"
  "${_mpirun} -n 7 ${_ferry} run ${_shard3_flags} --runtime.randomizers 3 --runtime.directory_shards 3 --runtime.cache_policy clairvoyant --runtime.inserts_in_flight_bytes 1")
ferry_tool_test(ferry_run_jpeg_bytes_cached_directory_shards 6 jpegdata ${_vlen_cache} ${CMAKE_CURRENT_BINARY_DIR}/vlen_shards 60 3 all
  "${_mpirun} -n 2 ${_ferry} local ${_vlen_augment}"
  "${_mpirun} -n 6 ${_ferry} run ${_vlen_augment} --runtime.randomizers 2 --runtime.directory_shards 2")
# With shards the augment head stays on the consumers, and the coordinator is told so: asked for a static
# head share of 0.5, it places none (its windows close every 2 batches, whatever the timing).
ferry_tool_test(ferry_run_head_stays_with_directory_shards 6 jpegdata ${_expect} 0 - "head op 0 -> accelerator share 0\\.000 \\(no device kernel"
  ${_mpi} 6 ${_ferry} run --dataset.layout vlen --dataset.files ${_data}/jpeg.h5 --dataset.fields image=/images,label=/labels
  --batch_size 6 --epochs 2 --augment "image=decode_jpeg | resize(shorter=32) | center_crop(size=32) | random_flip"
  --monitor.policy static --monitor.static_head_share 0.5 --runtime.randomizers 2 --runtime.directory_shards 2
  --log_level info --monitor.window_ms 0 --monitor.window_batches 2)
# The movable augment head (docs/heterogeneous.md): an ImageNet-style augment whose head (decode, resize,
# center crop) ends in a fixed shape, its head run on the transformation ranks for a static share of the
# batches (their hits read from the cache there). 60 samples, 2 consumers, batches of 6: 5 batches per
# consumer and epoch, pipeline batch numbers 0..14 over 3 epochs; route() sends the odd ones (7 per
# consumer, 14 in all) at share 0.5 and all 30 at 1.0. Bytes equal ferry local's, every ID once per epoch,
# epoch 2 all hits, and both counts of head batches equal route()'s.
# The same with ImageNet's own augment and the JPEG bytes cached (prepare empty, _vlen_augment): the head is
# decode alone, which ends in a shape that varies per sample; each decoded image travels with its shape
# (ferry_run_jpeg_decode_head_on_transformers_*).
foreach(_case "half;0.5;14" "all;1;30")
  list(GET _case 0 _name)
  list(GET _case 1 _share)
  list(GET _case 2 _batches)
  foreach(_which "" "decode_")
    if(_which STREQUAL "")
      set(_augment "${_head_augment}")
    else()
      set(_augment "${_vlen_augment}")
    endif()
    set(_head_run "${_augment} --monitor.policy static --monitor.static_head_share ${_share}")
    ferry_tool_test(ferry_run_jpeg_${_which}head_on_transformers_${_name} 5 jpegdata
      ${CMAKE_COMMAND} -E env FERRY_HEAD_BATCHES=${_batches}
      ${_vlen_cache} ${CMAKE_CURRENT_BINARY_DIR}/${_which}head_${_name} 60 3 all
      "${_mpirun} -n 2 ${_ferry} local ${_augment}"
      "${_mpirun} -n 5 ${_ferry} run ${_head_run}"
      "${_mpirun} -n 5 ${_ferry} run ${_head_run} --runtime.transport mpi --runtime.transform_workers 2")
  endforeach()
endforeach()
# Two pipelines on two randomizers: the second places its heads from placement_before_jobs and the
# coordinator's kJobs (static 0.5 over UCX; adaptive with 20 ms windows over MPI, which may or may not move
# them): bytes equal ferry local's either way.
configure_file(head_two_pipelines.toml.in ${CMAKE_CURRENT_BINARY_DIR}/head_two_pipelines.toml @ONLY)
set(_head_two "--config ${CMAKE_CURRENT_BINARY_DIR}/head_two_pipelines.toml")
ferry_tool_test(ferry_run_jpeg_head_two_randomizers 6 jpegdata ${CMAKE_CURRENT_SOURCE_DIR}/same_digests.sh
  "${_mpirun} -n 2 ${_ferry} local ${_head_two} --digest"
  "${_mpirun} -n 6 ${_ferry} run ${_head_two} --monitor.policy static --monitor.static_head_share 0.5 --digest"
  "${_mpirun} -n 6 ${_ferry} run ${_head_two} --monitor.window_ms 20 --runtime.transport mpi --digest")
set(_vlen_small "${_vlen_augment} --runtime.cache_bytes 40000")
ferry_tool_test(ferry_run_jpeg_bytes_cache_too_small 5 jpegdata ${_vlen_cache} ${CMAKE_CURRENT_BINARY_DIR}/vlen_small 60 3 some
  "${_mpirun} -n 2 ${_ferry} local ${_vlen_augment}"
  "${_mpirun} -n 5 ${_ferry} run ${_vlen_small}"
  "${_mpirun} -n 5 ${_ferry} run ${_vlen_small} --runtime.cache_policy lru --runtime.transport mpi"
  "${_mpirun} -n 5 ${_ferry} run ${_vlen_small} --runtime.cache_policy clairvoyant")
