// How transform ops launch their element functors with Kokkos, and how they pick the functor's element type.
// Included before the kernel headers so that FERRY_HD expands to KOKKOS_INLINE_FUNCTION.
#pragma once

#include <Kokkos_Core.hpp>
#include <cstddef>
#include <cstdint>

#include "ferry/dtype.hpp"
#include "transform/kokkos_runtime.hpp"
#include "transform/word.hpp"  // visit_word

namespace ferry::transform {

// Where Chain::run dispatches today. A later device path instantiates the same calls on a device space.
using HostExec = Kokkos::DefaultHostExecutionSpace;

// One launch over [0, count): the index space covers a whole batch, never one launch per sample.
template <typename ExecSpace = HostExec, typename Functor>
void for_each(const char* label, std::size_t count, const Functor& functor) {
  if (count == 0) return;
  Kokkos::parallel_for(label, Kokkos::RangePolicy<ExecSpace, Kokkos::IndexType<std::size_t>>(0, count),
                       functor);
}

// As for_each, calling functor(Tag{}, i): one functor type can offer several index spaces.
template <typename Tag, typename ExecSpace = HostExec, typename Functor>
void for_each_tagged(const char* label, std::size_t count, const Functor& functor) {
  if (count == 0) return;
  Kokkos::parallel_for(label, Kokkos::RangePolicy<ExecSpace, Tag, Kokkos::IndexType<std::size_t>>(0, count),
                       functor);
}

// One launch over a multi-dimensional index space [0, e0) x [0, e1) x ...: kernels whose index splits into
// (sample/plane, row, column...) get their coordinates without per-element integer division, which costs more
// than the copy itself in the layout ops. The last extent is innermost (contiguous in memory).
template <typename ExecSpace = HostExec, typename Functor, typename... Extents>
void for_each_md(const char* label, const Functor& functor, Extents... extents) {
  static_assert(sizeof...(Extents) >= 2 && sizeof...(Extents) <= 6, "MDRangePolicy takes rank 2..6");
  if (((extents == 0) || ...)) return;
  using Policy =
      Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<sizeof...(Extents)>, Kokkos::IndexType<std::int64_t>>;
  Kokkos::parallel_for(
      label, Policy({(static_cast<std::int64_t>(extents) * 0)...}, {static_cast<std::int64_t>(extents)...}),
      functor);
}

// Calls fn(T{}) with T the C++ type of `dtype`.
template <typename Fn>
void visit_dtype(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::u8:
      return fn(std::uint8_t{});
    case DType::i8:
      return fn(std::int8_t{});
    case DType::u16:
      return fn(std::uint16_t{});
    case DType::i16:
      return fn(std::int16_t{});
    case DType::u32:
      return fn(std::uint32_t{});
    case DType::i32:
      return fn(std::int32_t{});
    case DType::u64:
      return fn(std::uint64_t{});
    case DType::i64:
      return fn(std::int64_t{});
    case DType::f32:
      return fn(float{});
    case DType::f64:
      return fn(double{});
  }
}

}  // namespace ferry::transform
