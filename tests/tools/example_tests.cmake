# The examples on Fashion-MNIST and on a user's own data.

# The first example on Debian's Fashion-MNIST (dataset-fashion-mnist), imported with ferry-import idx.
set(_fm /usr/share/datasets/fashion-mnist)
if(EXISTS ${_fm}/t10k-images-idx3-ubyte.gz AND TARGET 00_training_loop)
  add_test(NAME tools_import_fashion_mnist
           COMMAND $<TARGET_FILE:ferry-import> idx --images ${_fm}/t10k-images-idx3-ubyte.gz
                   --labels ${_fm}/t10k-labels-idx1-ubyte.gz --out ${CMAKE_CURRENT_BINARY_DIR}/fmnist_t10k.h5)
  set_tests_properties(tools_import_fashion_mnist PROPERTIES FIXTURES_SETUP fmnist LABELS tools)
  ferry_tool_test(example_00_training_loop_loss_falls 1 fmnist ${_expect} 0 "step +300" -
    $<TARGET_FILE:00_training_loop> ${CMAKE_CURRENT_BINARY_DIR}/fmnist_t10k.h5 300 --check)
endif()

# The examples on a user's own data (examples/run.sh --data, docs/examples.md): ferry-gen images (16x16, one
# channel, i32 labels) copied under other dataset names. 00 trains on them; run.sh --dry-run passes the file,
# the names and the chain through (its command lines, 01's config), and 01 runs on the config it wrote.
if(TARGET 00_training_loop)
  set(_own ${_data}/own.h5)
  add_test(NAME tools_generate_own_data
           COMMAND bash -c "mkdir -p ${_data} && rm -f ${_data}/own_src.h5 ${_own} && ${_gen} image --out ${_data}/own_src.h5 --samples 256 --height 16 --width 16 --channels 1 && h5copy -i ${_data}/own_src.h5 -o ${_own} -s /images -d /pix && h5copy -i ${_data}/own_src.h5 -o ${_own} -s /labels -d /cls")
  set_tests_properties(tools_generate_own_data PROPERTIES FIXTURES_SETUP owndata LABELS tools)
  ferry_tool_test(example_00_on_generated_data 1 owndata ${_expect} 0 "^step +100 .* loss [0-9.]+$" -
    $<TARGET_FILE:00_training_loop> ${_own} 100 --images /pix --labels /cls --prepare "cast(scale=0.00392157)")
  set(_run_sh env FERRY_BUILD_DIR=${PROJECT_BINARY_DIR} FERRY_DATA_DIR=${_data} ${PROJECT_SOURCE_DIR}/examples/run.sh)
  ferry_tool_test(example_run_sh_dry_run_03 1 owndata ${_expect} 0
    "python3 .*03_pytorch_fmnist.py --train ${_own} --images /pix --labels /cls --prepare cast.*--epochs 2" -
    ${_run_sh} 03 --data ${_own} --images /pix --labels /cls --prepare "cast(scale=0.5)" --dry-run --epochs 2)
  if(TARGET 01_c_api)
    string(JOIN " " _run_sh_text ${_run_sh})
    ferry_tool_test(example_run_sh_on_generated_data 5 owndata ${_expect} 0 "^digest data [0-9a-f]{16}$" -
      bash -c "${_run_sh_text} 01 --data ${_own} --images /pix --labels /cls --prepare 'cast(scale=0.5)' --dry-run >/dev/null && ${_mpirun} -n 5 $<TARGET_FILE:01_c_api> ${_data}/c_api.toml")
  endif()
endif()
