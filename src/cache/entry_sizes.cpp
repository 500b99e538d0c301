#include "cache/entry_sizes.hpp"

#include <limits>

#include "core/check.hpp"

namespace ferry::cache {

std::uint64_t EntrySizes::slot(std::uint64_t id) const {
  FERRY_ENFORCE(id >= first_ && id - first_ < samples_, "entry size of sample ", id, " outside the IDs ",
                first_, " .. ", first_ + samples_, " this table holds");
  return id - first_;
}

std::uint64_t EntrySizes::get(std::uint64_t id) const {
  const std::uint64_t i = slot(id);
  return sizes_.empty() ? 0 : sizes_[i];
}

void EntrySizes::learn(std::uint64_t id, std::uint64_t bytes) {
  const std::uint64_t i = slot(id);
  if (bytes > std::numeric_limits<std::uint32_t>::max()) bytes = 0;
  if (sizes_.empty()) {
    if (bytes == 0) return;
    sizes_.assign(samples_, 0);
  }
  std::uint32_t& size = sizes_[i];
  if (size == 0 && bytes != 0) ++known_;
  if (size != 0 && bytes == 0) --known_;
  size = static_cast<std::uint32_t>(bytes);
}

}  // namespace ferry::cache
