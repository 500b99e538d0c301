// A batch as a training loop sees it: per field a pointer, shape and dtype, plus the sample IDs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/dtype.hpp"
#include "ferry/error.hpp"

namespace ferry {

struct BatchField {
  std::string name;
  DType dtype = DType::u8;
  std::vector<std::size_t> shape;   // [batch, ...per-sample shape]; variable fields: [batch]
  const std::byte* data = nullptr;  // contiguous, sample-major; null when the field is in device memory
  std::size_t bytes = 0;
  const std::uint64_t* offsets = nullptr;  // variable fields only: batch+1 byte offsets into data
  // runtime.device_batches: the field in the consumer's GPU memory (the device current when the Runtime
  // was made), laid out as data would be; fixed-size fields only. Valid until the next next_batch() of
  // the pipeline. Null otherwise.
  const std::byte* device_data = nullptr;

  bool variable() const noexcept { return offsets != nullptr; }
  bool on_device() const noexcept { return device_data != nullptr; }
  // Typed view of the whole field; throws Error when T does not match dtype or the field is on the device.
  template <typename T>
  std::span<const T> as() const;
  // Bytes of sample i (host fields only; throws Error for a field on the device).
  std::span<const std::byte> sample(std::size_t i) const;
};

struct Batch {
  std::string pipeline;
  std::uint64_t epoch = 0;
  std::uint64_t index = 0;         // batch number within the epoch for this consumer
  std::vector<std::uint64_t> ids;  // data IDs in delivery order
  std::vector<BatchField> fields;

  std::size_t size() const noexcept { return ids.size(); }
  // The field called `name`; throws Error naming it when there is none.
  const BatchField& field(std::string_view name) const;
};

namespace detail {
template <typename T>
constexpr bool dtype_matches(DType t) noexcept {
  if constexpr (std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::byte>)
    return t == DType::u8;
  else if constexpr (std::is_same_v<T, std::int8_t>)
    return t == DType::i8;
  else if constexpr (std::is_same_v<T, std::uint16_t>)
    return t == DType::u16;
  else if constexpr (std::is_same_v<T, std::int16_t>)
    return t == DType::i16;
  else if constexpr (std::is_same_v<T, std::uint32_t>)
    return t == DType::u32;
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return t == DType::i32;
  else if constexpr (std::is_same_v<T, std::uint64_t>)
    return t == DType::u64;
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return t == DType::i64;
  else if constexpr (std::is_same_v<T, float>)
    return t == DType::f32;
  else if constexpr (std::is_same_v<T, double>)
    return t == DType::f64;
  else
    return false;
}
}  // namespace detail

namespace detail {
[[noreturn]] void throw_on_device(const std::string& field);
}  // namespace detail

template <typename T>
std::span<const T> BatchField::as() const {
  if (on_device()) detail::throw_on_device(name);
  if (!detail::dtype_matches<T>(dtype))
    throw Error("batch field '" + name + "' holds " + std::string(dtype_name(dtype)) +
                ", not the requested type");
  return {reinterpret_cast<const T*>(data), bytes / sizeof(T)};
}

}  // namespace ferry
