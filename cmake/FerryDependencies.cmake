# Finds every dependency of Ferry. Required ones stop configuration with the package to install;
# optional ones (FERRY_USE_X = ON/AUTO/OFF) resolve into FERRY_HAVE_X.

set(_ferry_hint "run scripts/install_deps.sh (Debian/Ubuntu) or see its --print output for a cluster")

find_package(MPI REQUIRED COMPONENTS C)

find_package(ucx CONFIG QUIET)
if(NOT ucx_FOUND)
  message(FATAL_ERROR "Ferry needs UCX (ucp/uct/ucs): ${_ferry_hint}")
endif()

# Parallel HDF5 (Debian: libhdf5-openmpi-dev).
set(HDF5_PREFER_PARALLEL ON)
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
  message(WARNING "HDF5 found at ${HDF5_C_INCLUDE_DIRS} is not a parallel build; Ferry prefers libhdf5-openmpi-dev")
endif()
add_library(ferry_hdf5 INTERFACE)
target_include_directories(ferry_hdf5 SYSTEM INTERFACE ${HDF5_C_INCLUDE_DIRS})
target_link_libraries(ferry_hdf5 INTERFACE ${HDF5_C_LIBRARIES})
target_compile_definitions(ferry_hdf5 INTERFACE ${HDF5_C_DEFINITIONS})

find_package(Kokkos REQUIRED)
include(FerryKokkosRepair)
ferry_repair_debian_kokkos()

find_package(tomlplusplus REQUIRED)
find_package(CLI11 REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Threads REQUIRED)

# Image codecs for the decode_jpeg / decode_png ops and `ferry-gen jpeg` (Debian: libturbojpeg0-dev,
# libspng-dev), found through pkg-config.
find_package(PkgConfig REQUIRED)
pkg_check_modules(FERRY_TURBOJPEG QUIET IMPORTED_TARGET libturbojpeg)
pkg_check_modules(FERRY_SPNG QUIET IMPORTED_TARGET spng)
if(NOT FERRY_TURBOJPEG_FOUND OR NOT FERRY_SPNG_FOUND)
  message(FATAL_ERROR "Ferry needs libturbojpeg (TurboJPEG API) and libspng (Debian: libturbojpeg0-dev "
                      "libspng-dev): ${_ferry_hint}")
endif()
add_library(ferry_codecs INTERFACE)
target_link_libraries(ferry_codecs INTERFACE PkgConfig::FERRY_TURBOJPEG PkgConfig::FERRY_SPNG)

# xxHash >= 0.8 (Debian: libxxhash-dev): XXH3, the digest the ferry CLI and examples/01_c_api fold every
# delivered byte into. Only the programs link it; libferry does not.
find_path(FERRY_XXHASH_INCLUDE_DIR xxhash.h)
find_library(FERRY_XXHASH_LIBRARY xxhash)
set(FERRY_XXHASH_VERSION "")
if(FERRY_XXHASH_INCLUDE_DIR)
  file(STRINGS "${FERRY_XXHASH_INCLUDE_DIR}/xxhash.h" _xxh_lines REGEX "^#define XXH_VERSION_(MAJOR|MINOR|RELEASE) ")
  foreach(_part MAJOR MINOR RELEASE)
    string(REGEX REPLACE ".*XXH_VERSION_${_part} +([0-9]+).*" "\\1" _xxh_${_part} "${_xxh_lines}")
  endforeach()
  set(FERRY_XXHASH_VERSION "${_xxh_MAJOR}.${_xxh_MINOR}.${_xxh_RELEASE}")
endif()
if(NOT FERRY_XXHASH_INCLUDE_DIR OR NOT FERRY_XXHASH_LIBRARY OR FERRY_XXHASH_VERSION VERSION_LESS 0.8)
  message(FATAL_ERROR "Ferry needs xxHash >= 0.8 (XXH3; Debian: libxxhash-dev): ${_ferry_hint}")
endif()
add_library(ferry_xxhash INTERFACE)
target_include_directories(ferry_xxhash SYSTEM INTERFACE "${FERRY_XXHASH_INCLUDE_DIR}")
target_link_libraries(ferry_xxhash INTERFACE "${FERRY_XXHASH_LIBRARY}")

if(FERRY_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(FERRY_BUILD_PERF)
  find_package(benchmark QUIET)
endif()

# ---- optional: CUDA ------------------------------------------------------------------------------
set(FERRY_HAVE_CUDA OFF)
if(NOT FERRY_USE_CUDA STREQUAL "OFF")
  if(NOT DEFINED CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  find_package(CUDAToolkit QUIET)
  if(CMAKE_CUDA_COMPILER AND CUDAToolkit_FOUND)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 80 90)
    endif()
    enable_language(CUDA)
    set(FERRY_HAVE_CUDA ON)
  elseif(FERRY_USE_CUDA STREQUAL "ON")
    message(FATAL_ERROR "FERRY_USE_CUDA=ON but no CUDA compiler/toolkit was found (set CUDAToolkit_ROOT)")
  endif()
endif()

# ---- optional: NCCL (needs CUDA) -----------------------------------------------------------------
set(FERRY_HAVE_NCCL OFF)
if(FERRY_HAVE_CUDA AND NOT FERRY_USE_NCCL STREQUAL "OFF")
  find_path(FERRY_NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS} ENV NCCL_HOME PATH_SUFFIXES include)
  find_library(FERRY_NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR} ENV NCCL_HOME PATH_SUFFIXES lib lib64)
  if(FERRY_NCCL_INCLUDE_DIR AND FERRY_NCCL_LIBRARY)
    set(FERRY_HAVE_NCCL ON)
  endif()
endif()
if(FERRY_USE_NCCL STREQUAL "ON" AND NOT FERRY_HAVE_NCCL)
  message(FATAL_ERROR "FERRY_USE_NCCL=ON but NCCL (with CUDA) was not found (set NCCL_HOME)")
endif()

# ---- vector math for the host kernels (log1p) ----------------------------------------------------
# glibc >= 2.35's libmvec has SSE/AVX2/AVX-512 log1pf. Measured on this project's 2-core AVX-512 machine
# (glibc 2.36, SLEEF 3.5.1, one 1.2 M-float array): libmvec 1.7-2.2 G elements/s, SLEEF 0.8-1.3, glibc's
# scalar log1pf 0.02-0.03, numpy 1.9. So libmvec is the default; SLEEF (FERRY_USE_SLEEF) serves a glibc
# without it (older than 2.35, or another libc) under AUTO, and always under ON (1 ulp instead of 2, and
# the same bits on every x86 ISA). Neither: the scalar loop.
include(CheckCXXSourceCompiles)
set(FERRY_HAVE_LIBMVEC OFF)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set(CMAKE_REQUIRED_LIBRARIES m)
  check_cxx_source_compiles("
    #include <immintrin.h>
    extern \"C\" __m128 _ZGVbN4v_log1pf(__m128);
    int main() { float f[4] = {}; _mm_storeu_ps(f, _ZGVbN4v_log1pf(_mm_setzero_ps())); return f[0] != 0.0f; }"
    FERRY_LIBMVEC_LOG1PF)
  unset(CMAKE_REQUIRED_LIBRARIES)
  if(FERRY_LIBMVEC_LOG1PF)
    set(FERRY_HAVE_LIBMVEC ON)
  endif()
endif()

set(FERRY_HAVE_SLEEF OFF)
if(FERRY_USE_SLEEF STREQUAL "ON" OR (FERRY_USE_SLEEF STREQUAL "AUTO" AND NOT FERRY_HAVE_LIBMVEC))
  find_path(FERRY_SLEEF_INCLUDE_DIR sleef.h)
  find_library(FERRY_SLEEF_LIBRARY sleef)
  if(FERRY_SLEEF_INCLUDE_DIR AND FERRY_SLEEF_LIBRARY)
    add_library(ferry_sleef INTERFACE)
    target_include_directories(ferry_sleef SYSTEM INTERFACE ${FERRY_SLEEF_INCLUDE_DIR})
    target_link_libraries(ferry_sleef INTERFACE ${FERRY_SLEEF_LIBRARY})
    set(FERRY_HAVE_SLEEF ON)
  elseif(FERRY_USE_SLEEF STREQUAL "ON")
    message(FATAL_ERROR "FERRY_USE_SLEEF=ON but SLEEF was not found (Debian: libsleef-dev; or set CMAKE_PREFIX_PATH)")
  endif()
endif()
