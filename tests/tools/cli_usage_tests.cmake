# ferry local on generated images, and every program's usage errors and --help.

ferry_tool_test(ferry_local_3_ranks 3 tooldata ${_expect} 0 "^digest default [0-9a-f]{16}$" -
  ${_mpi} 3 ${_ferry} local ${_img_flags} --prepare "image=cast | hwc_to_chw" --augment "image=random_flip" --epochs 2 --digest)
ferry_tool_test(ferry_local_same_digest_twice 2 tooldata ${CMAKE_CURRENT_SOURCE_DIR}/same_digest.sh
  ${_mpi} 2 ${_ferry} local ${_img_flags} --prepare "image=cast" --augment "image=noise(std=0.1)" --epochs 2 --digest)
ferry_tool_test(ferry_local_cosmoflow 2 tooldata ${_expect} 0 "^cosmoflow +1 +" -
  ${_mpi} 2 ${_ferry} local --name cosmoflow --dataset.layout file_per_sample --dataset.files ${_data}/cosmo
  --dataset.fields full=full,params=unitPar --prepare "full=cast | log1p" --batch_size 2 --epochs 2)
# A resumed run (start_epoch, start_batch) delivers the rest: 200 samples on 2 ranks are 12 batches of 8 per
# rank and epoch, so epoch 1 from batch 3 on is 9 batches per rank.
ferry_tool_test(ferry_local_resume_at_epoch 2 tooldata ${_expect} 0 "^default +2 +192 " -
  ${_mpi} 2 ${_ferry} local ${_img_flags} --epochs 3 --start_epoch 1)
ferry_tool_test(ferry_local_resume_mid_epoch 2 tooldata ${_expect} 0 "^default +1 +144 " -
  ${_mpi} 2 ${_ferry} local ${_img_flags} --epochs 2 --start_epoch 1 --start_batch 3)
ferry_tool_test(ferry_local_missing_file 3 none ${_expect} 1 - "^ferry: error: /nonexistent/x.h5"
  ${_mpi} 3 ${_ferry} local --dataset.files /nonexistent/x.h5 --dataset.fields image=/images)
# Both CLIs print the same line for the same mistake (docs/errors.md); the cache server (rank 1) opens no
# dataset, so it did not fail.
ferry_tool_test(ferry_run_missing_file 5 none ${_expect} nonzero - "^ferry: error: ranks 0,2-4: /nonexistent/x.h5: cannot open"
  ${_mpi} 5 ${_ferry} run --dataset.files /nonexistent/x.h5 --dataset.fields image=/images)
ferry_tool_test(ferry_local_missing_dataset 2 tooldata ${_expect} nonzero - "img.h5.*/imagez"
  ${_mpi} 2 ${_ferry} local --dataset.files ${_data}/img.h5 --dataset.fields image=/imagez)
ferry_tool_test(ferry_local_bad_flag_value 2 tooldata ${_expect} 2 - "--batch_size: batch_size = 0 is out of range"
  ${_mpi} 2 ${_ferry} local ${_img_flags} --batch_size 0)
ferry_tool_test(ferry_local_bad_op 2 tooldata ${_expect} nonzero - "log1p.*image"
  ${_mpi} 2 ${_ferry} local ${_img_flags} --prepare "image=log1p")
ferry_tool_test(ferry_local_bad_config_key 1 none ${_expect} 2 - "bad.toml:2: unknown key 'batch_sise'"
  bash -c "printf 'log_level = \"info\"\\nbatch_sise = 3\\n' > ${CMAKE_CURRENT_BINARY_DIR}/bad.toml && ${_ferry} local --config ${CMAKE_CURRENT_BINARY_DIR}/bad.toml")
ferry_tool_test(ferry_print_config 1 none ${_expect} 0 "^batch_size = 8$" -
  ${_ferry} local --print-config --dataset.files a.h5 --dataset.fields image=/images --batch_size 8)
ferry_tool_test(ferry_gen_bad_kind 1 none ${_expect} 2 - "ferry-gen: error" ${_gen} pictures --out x.h5)

# Usage errors from every program: exit 2 and one line "PROGRAM: error: ... (see PROGRAM --help)"
# (docs/errors.md), printed once under mpirun; --help exits 0.
set(_usage ${CMAKE_CURRENT_SOURCE_DIR}/usage_error.sh)
ferry_tool_test(ferry_usage_unknown_flag 1 none ${_usage} ferry "--no-such-flag" ${_ferry} local --no-such-flag)
ferry_tool_test(ferry_usage_no_subcommand 1 none ${_usage} ferry "subcommand" ${_ferry})
ferry_tool_test(ferry_usage_bad_option_value 1 none ${_usage} ferry "--step-ms" ${_ferry} run --step-ms -3)
ferry_tool_test(ferry_usage_under_mpirun 2 none ${_usage} ferry "--no-such-flag" ${_mpi} 2 ${_ferry} run --no-such-flag)
ferry_tool_test(ferry_serve_usage_unknown_flag 1 none ${_usage} ferry-serve "--no-such-flag" ${_serve} --no-such-flag)
ferry_tool_test(ferry_gen_usage_missing_option 1 none ${_usage} ferry-gen "--out" ${_gen} image)
ferry_tool_test(ferry_import_usage_missing_option 1 none ${_usage} ferry-import "--labels"
  $<TARGET_FILE:ferry-import> idx --images a.idx --out b.h5)
ferry_tool_test(ferry_help_exits_0 1 none ${_expect} 0 "--batch_size" - ${_ferry} run --help)
