// The unsigned type of an element size: ops that only move elements (layout changes, crops, flips) need
// the size, not the dtype, so one instantiation per size serves every dtype. Plain C++17: the Kokkos
// dispatch (dispatch.hpp) and the CUDA launcher (cuda/launch.cu) both use it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ferry::transform {

// Calls fn(W{}) with W the unsigned word of `bytes` bytes (1, 2, 4; anything else is taken as 8, the only
// other element size a DType has).
template <typename Fn>
void visit_word(std::size_t bytes, Fn&& fn) {
  switch (bytes) {
    case 1:
      return fn(std::uint8_t{});
    case 2:
      return fn(std::uint16_t{});
    case 4:
      return fn(std::uint32_t{});
    default:
      return fn(std::uint64_t{});
  }
}

}  // namespace ferry::transform
