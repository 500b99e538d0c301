#include "ferry/batch.hpp"

namespace ferry {

const BatchField& Batch::field(std::string_view name) const {
  for (const auto& f : fields)
    if (f.name == name) return f;
  throw Error("batch of pipeline '" + pipeline + "' has no field '" + std::string(name) + "'");
}

std::span<const std::byte> BatchField::sample(std::size_t i) const {
  if (offsets) return {data + offsets[i], static_cast<std::size_t>(offsets[i + 1] - offsets[i])};
  const std::size_t per = shape.empty() || shape[0] == 0 ? 0 : bytes / shape[0];
  return {data + i * per, per};
}

}  // namespace ferry
