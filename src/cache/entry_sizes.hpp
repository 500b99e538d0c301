// The entry size of every sample of a pipeline whose entries are variable-length (docs/cache.md, "Variable
// entries"): an entry's size is known only once its sample was read, so the randomizer learns it from the
// transformer's answer to a miss list (kMissDone) and admits the sample with that size the next time it
// misses. One 32-bit word per sample of the randomizer's key range (the dataset, or its directory shard's
// range: runtime.directory_shards), allocated at the first size learned (a fixed pipeline never pays for
// it): O(N / shards) on the randomizer like the directory. Entries of 4 GiB and more are not kept
// (never cached). A randomizer that retires hands the known sizes to its heir with its pipelines
// (handover.hpp). Not thread-safe: the randomizer's progress loop is its only caller.
#pragma once

#include <cstdint>
#include <vector>

namespace ferry::cache {

class EntrySizes {
 public:
  // The IDs [first, first + samples): the dataset, or a directory shard's key range; others are a bug
  // (InternalError).
  explicit EntrySizes(std::uint64_t first = 0, std::uint64_t samples = 0)
      : first_(first), samples_(samples) {}

  // The entry size of sample `id` as last learned; 0 when unknown (an entry is never empty: it holds at
  // least a varint length).
  std::uint64_t get(std::uint64_t id) const;
  // Records it (again: the latest wins). A size of 0 or of 4 GiB and more forgets the sample.
  void learn(std::uint64_t id, std::uint64_t bytes);
  // Samples whose size is known, and the table's bytes in memory.
  std::uint64_t known() const noexcept { return known_; }
  std::uint64_t memory_bytes() const noexcept { return sizes_.capacity() * sizeof(std::uint32_t); }
  // Calls f(id, bytes) for every known size, ascending IDs (a randomizer's handover).
  template <typename F>
  void each(F&& f) const {
    for (std::uint64_t i = 0; i < sizes_.size(); ++i)
      if (sizes_[i] != 0) f(first_ + i, std::uint64_t{sizes_[i]});
  }

 private:
  std::uint64_t slot(std::uint64_t id) const;  // id's index in sizes_

  std::uint64_t first_, samples_;
  std::uint64_t known_ = 0;
  std::vector<std::uint32_t> sizes_;  // empty until the first learn(), then one per sample
};

}  // namespace ferry::cache
