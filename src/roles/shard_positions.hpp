// A directory shard's part of an epoch (runtime.directory_shards; docs/scaling.md, "The directory sharded by
// key range"): shard j of D holds the sample IDs [N x j / D, N x (j + 1) / D) and describes only the batch
// positions that deliver them. ShardPositions finds those positions from the IDs (the inverse permutation,
// EpochPlan::locate), grouped by consumer and batch, so a shard works O(N / D) per epoch and never computes
// the IDs of the other shards' positions. Memory: 16 bytes a position of its range and 8 a batch.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "sampler/epoch_plan.hpp"

namespace ferry::roles {

// The IDs [first, end) a directory shard holds.
struct KeyRange {
  std::uint64_t first = 0, end = 0;
  bool holds(std::uint64_t id) const noexcept { return id >= first && id < end; }
};
// Shard `shard` of `shards` of a dataset of `samples` samples.
inline KeyRange shard_range(std::uint64_t samples, std::uint32_t shard, std::uint32_t shards) noexcept {
  return {samples * shard / shards, samples * (shard + 1) / shards};
}

class ShardPositions {
 public:
  struct Own {
    std::uint32_t position = 0;  // in its batch
    std::uint64_t id = 0;
  };
  // Every delivery of an ID of `keys` in the epoch of `plan` (`spec` is the plan's share): a padded epoch
  // (drop_last off) delivers some IDs twice, a dropped tail none.
  ShardPositions(const sampler::ShareSpec& spec, const sampler::EpochPlan& plan, KeyRange keys);

  std::uint64_t epoch() const noexcept { return epoch_; }
  // Consumer `consumer`'s batch `batch`: its positions of this shard's IDs, ascending.
  std::span<const Own> batch(std::uint32_t consumer, std::uint64_t batch) const;
  std::uint64_t positions() const noexcept { return own_.size(); }
  std::uint64_t memory_bytes() const noexcept {
    return own_.capacity() * sizeof(Own) + first_.capacity() * sizeof(std::uint64_t);
  }

 private:
  std::uint64_t epoch_, batches_;
  std::vector<std::uint64_t> first_;  // per consumer x batch + 1: where its positions start in own_
  std::vector<Own> own_;
};

}  // namespace ferry::roles
