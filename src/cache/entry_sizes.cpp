#include "cache/entry_sizes.hpp"

#include <limits>

#include "core/check.hpp"

namespace ferry::cache {

std::uint64_t EntrySizes::get(std::uint64_t id) const {
  FERRY_ENFORCE(id < samples_, "entry size of sample ", id, " of a dataset of ", samples_);
  return sizes_.empty() ? 0 : sizes_[id];
}

void EntrySizes::learn(std::uint64_t id, std::uint64_t bytes) {
  FERRY_ENFORCE(id < samples_, "entry size of sample ", id, " of a dataset of ", samples_);
  if (bytes > std::numeric_limits<std::uint32_t>::max()) bytes = 0;
  if (sizes_.empty()) {
    if (bytes == 0) return;
    sizes_.assign(samples_, 0);
  }
  std::uint32_t& slot = sizes_[id];
  if (slot == 0 && bytes != 0) ++known_;
  if (slot != 0 && bytes == 0) --known_;
  slot = static_cast<std::uint32_t>(bytes);
}

}  // namespace ferry::cache
