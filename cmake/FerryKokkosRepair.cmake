# Debian's libtrilinos-kokkos-dev (Kokkos 3.4.01 from Trilinos 13.2) installs a KokkosConfig.cmake whose
# imported Kokkos::kokkos target names ${prefix}/include, which does not hold the headers (they are in
# include/trilinos), and bare library names plus a stray "-DKOKKOS_DEPENDENCE" in its link line. A site's own
# Kokkos install (CUDA/OpenMP/...) has a correct target and is left untouched: we only act when the target's
# include directory lacks Kokkos_Core.hpp.
function(ferry_repair_debian_kokkos)
  if(NOT TARGET Kokkos::kokkos)
    message(FATAL_ERROR "find_package(Kokkos) gave no Kokkos::kokkos target")
  endif()
  get_target_property(_inc Kokkos::kokkos INTERFACE_INCLUDE_DIRECTORIES)
  set(_ok FALSE)
  foreach(_d IN LISTS _inc)
    if(EXISTS "${_d}/Kokkos_Core.hpp")
      set(_ok TRUE)
    endif()
  endforeach()
  if(_ok)
    return()
  endif()
  find_path(_kokkos_inc Kokkos_Core.hpp HINTS ${Kokkos_INCLUDE_DIRS} PATH_SUFFIXES trilinos NO_CACHE)
  find_library(_kokkos_core trilinos_kokkoscore NO_CACHE)
  if(NOT _kokkos_inc OR NOT _kokkos_core)
    message(FATAL_ERROR "Kokkos::kokkos has a broken include path (${_inc}) and no Trilinos Kokkos headers were found")
  endif()
  set_target_properties(Kokkos::kokkos PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${_kokkos_inc}"
    INTERFACE_LINK_LIBRARIES "${_kokkos_core};Threads::Threads;${CMAKE_DL_LIBS}")
  message(STATUS "Kokkos: repaired Debian's Kokkos::kokkos target (headers ${_kokkos_inc}, ${_kokkos_core})")
endfunction()
