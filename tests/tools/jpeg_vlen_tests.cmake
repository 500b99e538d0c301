# JPEG and other variable-length samples: decode in prepare or augment, read-ahead, cached entries.

# JPEG samples (ferry-gen jpeg, vlen): decode in prepare (the cache holds u8 images) or in augment (it holds
# the JPEG bytes) through ferry run gives the bytes LocalLoader gives, on both transports and in MPMD mode.
add_test(NAME tools_generate_jpeg
         COMMAND bash -c "mkdir -p ${_data} && ${_gen} jpeg --out ${_data}/jpeg.h5 --samples 60 --width 64 && ${_gen} jpeg --out ${_data}/jpeg_bad.h5 --samples 60 --width 64 --truncate-sample 17 && ${_gen} jpeg --out ${_data}/jpeg_skip.h5 --samples 60 --width 64 --garbage-sample 4 --truncate-sample 17 --empty-sample 33")
set_tests_properties(tools_generate_jpeg PROPERTIES FIXTURES_SETUP jpegdata LABELS tools)
foreach(_where prepare augment)
  ferry_tool_test(ferry_run_jpeg_decode_in_${_where}_matches_local 5 jpegdata ${CMAKE_CURRENT_SOURCE_DIR}/same_digests.sh
    "${_mpirun} -n 2 ${_ferry} local ${_jpeg_in_${_where}} --digest"
    "${_mpirun} -n 5 ${_ferry} run ${_jpeg_in_${_where}} --digest"
    "${_mpirun} -n 5 ${_ferry} run ${_jpeg_in_${_where}} --runtime.transport mpi --digest"
    "${_mpirun} -n 3 ${_serve} ${_jpeg_in_${_where}} : -n 2 ${_ferry} run ${_jpeg_in_${_where}} --digest")
  # A truncated JPEG (sample 17) ends the job on every rank with one line naming file, dataset and sample.
  string(REPLACE "jpeg.h5" "jpeg_bad.h5" _bad "${_jpeg_in_${_where}}")
  ferry_tool_test(ferry_run_corrupt_jpeg_in_${_where}_fails 5 jpegdata ${_expect} nonzero -
    "jpeg_bad.h5: dataset /images, sample 17: field 'image': op decode_jpeg: corrupt JPEG"
    bash -c "${_mpirun} -n 5 ${_ferry} run ${_bad}")
endforeach()
# Read-ahead over variable-length samples (counted once read): a budget of one byte reads each list alone.
foreach(_where prepare augment)
  ferry_tool_test(ferry_run_read_ahead_jpeg_in_${_where}_matches_local 5 jpegdata ${CMAKE_CURRENT_SOURCE_DIR}/same_digests.sh
    "${_mpirun} -n 2 ${_ferry} local ${_jpeg_in_${_where}} --digest"
    "${_mpirun} -n 5 ${_ferry} run ${_jpeg_in_${_where}} --runtime.cache_bytes 0 --runtime.read_ahead_bytes 1 --runtime.transform_workers 2 --digest")
endforeach()

# Cached variable-length entries (docs/cache.md, "Variable entries"): the JPEG bytes (decode in augment) and
# the vlen bytes delivered as read (no chain) over 3 epochs give ferry local's bytes, every sample once per
# epoch; with a cache that holds the set epoch 0 and 1 are all misses and epoch 2 all hits, with one too small
# (static, lru, clairvoyant) epoch 2 has both, and the peak use never passes the slab (vlen_cache.sh).
ferry_tool_test(ferry_run_jpeg_bytes_cached 5 jpegdata ${_vlen_cache} ${CMAKE_CURRENT_BINARY_DIR}/vlen_jpeg 60 3 all
  "${_mpirun} -n 2 ${_ferry} local ${_vlen_augment}"
  "${_mpirun} -n 5 ${_ferry} run ${_vlen_augment}"
  "${_mpirun} -n 5 ${_ferry} run ${_vlen_augment} --runtime.transport mpi")
ferry_tool_test(ferry_run_vlen_bytes_cached 5 jpegdata ${_vlen_cache} ${CMAKE_CURRENT_BINARY_DIR}/vlen_bytes 60 3 all
  "${_mpirun} -n 2 ${_ferry} local ${_vlen_bytes}"
  "${_mpirun} -n 5 ${_ferry} run ${_vlen_bytes}"
  "${_mpirun} -n 5 ${_ferry} run ${_vlen_bytes} --runtime.transport mpi")
