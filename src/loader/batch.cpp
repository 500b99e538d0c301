#include "ferry/batch.hpp"

namespace ferry {

const BatchField& Batch::field(std::string_view name) const {
  for (const auto& f : fields)
    if (f.name == name) return f;
  throw Error("batch of pipeline '" + pipeline + "' has no field '" + std::string(name) + "'");
}

namespace detail {
void throw_on_device(const std::string& field) {
  throw Error("batch field '" + field +
              "' is in device memory (runtime.device_batches): read it through device_data");
}
}  // namespace detail

std::span<const std::byte> BatchField::sample(std::size_t i) const {
  if (on_device()) detail::throw_on_device(name);
  if (offsets) return {data + offsets[i], static_cast<std::size_t>(offsets[i + 1] - offsets[i])};
  const std::size_t per = shape.empty() || shape[0] == 0 ? 0 : bytes / shape[0];
  return {data + i * per, per};
}

}  // namespace ferry
