# Bad samples (bad_samples = fail or skip) on every path.

# Bad samples (docs/transforms.md): jpeg_skip.h5 holds a garbage (4), a truncated (17) and an empty (33) JPEG.
# bad_samples = fail (the default): one line names file, dataset and sample (one per rank that met one: the
# transformer, or each consumer or ferry local rank), and every rank exits non-zero by itself (the launcher
# does not end the job for them), from ferry local and from ferry run over both transports, decode in prepare
# (transformer) and in augment (consumer).
set(_skip_flags --dataset.layout vlen --dataset.files ${_data}/jpeg_skip.h5 --dataset.fields image=/images,label=/labels
  --batch_size 6 --epochs 2)
set(_skip_prepare ${_skip_flags} --prepare "image=decode_jpeg | resize(shorter=32) | center_crop(size=32)"
  --augment "image=${_jpeg_augment}")
set(_skip_augment ${_skip_flags} --augment "image=decode_jpeg | ${_jpeg_augment}")
set(_named "jpeg_skip.h5: dataset /images, sample (4|17|33): field 'image': op decode_jpeg: (corrupt|not a readable) JPEG")
set(_exits ${CMAKE_CURRENT_SOURCE_DIR}/rank_exits.sh)
# ferry_skip_test(NAME PREFIX EPOCHS FLAGS): bad_samples.sh over jpeg_skip.h5's 60 samples, FLAGS through
# ferry local and ferry run over both transports.
function(ferry_skip_test name prefix epochs flags)
  ferry_tool_test(${name} 5 jpegdata ${CMAKE_CURRENT_SOURCE_DIR}/bad_samples.sh
    ${CMAKE_CURRENT_BINARY_DIR}/${prefix} 60 ${epochs} 4,17,33
    "${_mpirun} -n 2 ${_ferry} local ${flags}"
    "${_mpirun} -n 5 ${_ferry} run ${flags}"
    "${_mpirun} -n 5 ${_ferry} run ${flags} --runtime.transport mpi")
endfunction()
foreach(_where prepare augment)
  ferry_tool_test(ferry_local_bad_jpeg_in_${_where}_fails 2 jpegdata ${_exits} 2 "${_named}" 2
    ${_mpi} 2 -- ${_ferry} local ${_skip_${_where}})
  if(_where STREQUAL "prepare")
    set(_lines 1)  # the one transformer
  else()
    set(_lines 2)  # each consumer
  endif()
  foreach(_transport ucx mpi)
    ferry_tool_test(ferry_run_bad_jpeg_in_${_where}_fails_${_transport} 5 jpegdata ${_exits} 5 "${_named}"
      ${_lines} ${_mpi} 5 -- ${_ferry} run ${_skip_${_where}} --runtime.transport ${_transport})
  endforeach()
  # bad_samples = skip: the three are dropped, every other sample arrives once per epoch, ferry run's bytes
  # (both transports) are ferry local's, and the skipped counts are exact.
  string(REPLACE "jpeg.h5" "jpeg_skip.h5" _skip "${_jpeg_in_${_where}} --bad_samples skip")
  ferry_skip_test(ferry_run_bad_jpeg_in_${_where}_skipped skip_${_where} 2 "${_skip}")
endforeach()
# ... and with every augment head on the transformer (docs/heterogeneous.md, "The movable head"), over 3
# epochs so that the last one reads the JPEGs from the cache there: the head skips them as the consumer did.
string(REPLACE "jpeg.h5" "jpeg_skip.h5" _skip_head "${_head_augment} --bad_samples skip --monitor.policy static --monitor.static_head_share 1")
ferry_skip_test(ferry_run_bad_jpeg_in_head_on_transformers_skipped skip_head 3 "${_skip_head}")
set_property(TEST ferry_run_bad_jpeg_in_head_on_transformers_skipped APPEND PROPERTY ENVIRONMENT FERRY_HEAD_SKIPS=1)

# Decode in augment over 3 epochs: the bad JPEGs' bytes are cached like the others (epoch 2 reads them from the
# cache), the consumers' decode skips them every epoch, the rest is as above.
string(REPLACE "--epochs 2" "--epochs 3" _skip_cached "${_jpeg_in_augment} --bad_samples skip")
string(REPLACE "jpeg.h5" "jpeg_skip.h5" _skip_cached "${_skip_cached}")
ferry_skip_test(ferry_run_bad_jpeg_in_augment_skipped_from_cache skip_cached 3 "${_skip_cached}")
# ... and with every head on the transformer when the head is decode alone (a shape that varies per sample).
ferry_skip_test(ferry_run_bad_jpeg_in_decode_head_on_transformers_skipped skip_decode_head 3
  "${_skip_cached} --monitor.policy static --monitor.static_head_share 1")
set_property(TEST ferry_run_bad_jpeg_in_decode_head_on_transformers_skipped APPEND PROPERTY ENVIRONMENT
  FERRY_HEAD_SKIPS=1)
# ... and with bad_samples = fail (the default): the transformer that ran the decode head ends the job with one
# line naming itself, file, dataset and sample (the consumers print none of their own), every rank non-zero.
ferry_tool_test(ferry_run_bad_jpeg_in_decode_head_on_transformers_fails 5 jpegdata ${_exits} 5 "${_named}" 1
  ${_mpi} 5 -- ${_ferry} run ${_skip_augment} --monitor.policy static --monitor.static_head_share 1)
set_property(TEST ferry_run_bad_jpeg_in_decode_head_on_transformers_fails APPEND PROPERTY ENVIRONMENT
  "RANK_EXITS_BY=rank [0-9]+ \\(transformer\\): ")

# The same with decoded entries of 76,808 B, which go through the transformer's send pool (prepared into it; a
# list of skipped samples only goes in messages).
string(REPLACE "jpeg.h5" "jpeg_skip.h5" _skip_pool "${_jpeg_in_prepare} --bad_samples skip")
string(REPLACE "=32)" "=160)" _skip_pool "${_skip_pool}")
ferry_skip_test(ferry_run_bad_jpeg_skipped_send_pool skip_pool 2 "${_skip_pool}")
