# What the end-to-end test files share: the programs, the generated data's place and the flag sets several
# of them run (included first by CMakeLists.txt).
set(_expect "${CMAKE_CURRENT_SOURCE_DIR}/expect.sh")
set(_data "${CMAKE_CURRENT_BINARY_DIR}/data")
set(_gen $<TARGET_FILE:ferry-gen>)
set(_ferry $<TARGET_FILE:ferry_cli>)
set(_mpi ${MPIEXEC_EXECUTABLE} --oversubscribe ${MPIEXEC_NUMPROC_FLAG})
set(_root_env "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OMPI_MCA_rmaps_base_oversubscribe=1")
set(_img_flags --dataset.files ${_data}/img.h5 --dataset.fields image=/images,label=/labels --batch_size 8)
set(_serve $<TARGET_FILE:ferry-serve>)
set(_mpirun "${MPIEXEC_EXECUTABLE} --oversubscribe")
# ferry run's usual job: 8x8 images, a prepare and an augment chain, 2 epochs (_run_text: as one shell
# string, the chain quoted).
set(_run_flags ${_img_flags} --prepare "image=cast | hwc_to_chw" --augment "image=random_flip" --epochs 2)
string(JOIN " " _run_text ${_run_flags})
string(REPLACE "image=cast | hwc_to_chw" "'image=cast | hwc_to_chw'" _run_text "${_run_text}")
# Entries of 76,808 B (160x160 images), which take the send pool and one-sided gets.
set(_large_flags --dataset.files ${_data}/img_large.h5 --dataset.fields image=/images,label=/labels --batch_size 4
  --epochs 2)
# JPEG samples (tools_generate_jpeg): decode in prepare or in augment, 2 epochs; over 3 epochs with the JPEG
# bytes (_vlen_augment) or the vlen bytes as read (_vlen_bytes) cached; and a movable augment head.
set(_jpeg_flags "--dataset.layout vlen --dataset.files ${_data}/jpeg.h5 --dataset.fields image=/images,label=/labels --batch_size 6 --epochs 2")
set(_jpeg_augment "random_resized_crop(size=24) | random_flip | cast(scale=0.00392156862745098) | normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])")
set(_jpeg_in_prepare "${_jpeg_flags} --prepare 'image=decode_jpeg | resize(shorter=32) | center_crop(size=32)' --augment 'image=${_jpeg_augment}'")
set(_jpeg_in_augment "${_jpeg_flags} --augment 'image=decode_jpeg | ${_jpeg_augment}'")
string(REPLACE "--epochs 2" "--epochs 3" _vlen_augment "${_jpeg_in_augment}")
string(REPLACE "--epochs 2" "--epochs 3" _vlen_bytes "${_jpeg_flags}")
set(_vlen_cache ${CMAKE_CURRENT_SOURCE_DIR}/vlen_cache.sh)
set(_head_augment "--dataset.layout vlen --dataset.files ${_data}/jpeg.h5 --dataset.fields image=/images,label=/labels --batch_size 6 --epochs 3 --augment 'image=decode_jpeg | resize(shorter=32) | center_crop(size=32) | ${_jpeg_augment}'")
