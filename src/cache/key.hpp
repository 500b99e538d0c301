// Cache keys and the places entries live. Only the randomizer rank reads and writes this metadata; cache
// servers just copy bytes to the offsets it hands out, and consumers read hits at a Location.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "core/hash.hpp"

namespace ferry::cache {

// One prepared sample. `group` folds the dataset and prepare-stage fingerprints (make_group), so pipelines
// that prepare the same data the same way share entries, and pipelines that differ share only capacity.
struct Key {
  std::uint64_t group = 0;
  std::uint64_t id = 0;  // data ID within the dataset

  friend bool operator==(const Key&, const Key&) = default;
};

constexpr std::uint64_t make_group(std::uint64_t dataset_fingerprint,
                                   std::uint64_t prepare_fingerprint) noexcept {
  return hash_combine(dataset_fingerprint, prepare_fingerprint);
}

struct KeyHash {
  std::size_t operator()(const Key& key) const noexcept {
    return static_cast<std::size_t>(hash_combine(key.group, key.id));
  }
};

// Where an entry's bytes are: `bytes` at `offset` inside the registered slab of cache server `server`.
struct Location {
  std::uint32_t server = 0;  // index among the cache servers, not an MPI rank
  std::uint64_t offset = 0;  // 64-byte aligned
  std::uint64_t bytes = 0;   // the entry's size; the reserved range is this rounded up to 64 bytes

  friend bool operator==(const Location&, const Location&) = default;
};

}  // namespace ferry::cache

template <>
struct std::hash<ferry::cache::Key> : ferry::cache::KeyHash {};
