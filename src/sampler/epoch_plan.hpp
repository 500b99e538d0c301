// Which samples consumer c of C gets in batch k of epoch e, with PyTorch DistributedSampler semantics:
//   order      = Permutation(n, hash(seed, epoch)) (identity when shuffle is off)
//   drop_last  : each consumer gets floor(n / C) samples, the tail of the order is dropped, and a last
//                partial batch is dropped;
//   !drop_last : each consumer gets ceil(n / C) samples, the order is padded by wrapping to its start, and a
//                last partial batch is kept (smaller).
//   consumer c's p-th sample is order[(p * C + c) mod n] (strided, as DistributedSampler does).
#pragma once

#include <cstdint>
#include <vector>

#include "sampler/permutation.hpp"

namespace ferry::sampler {

struct ShareSpec {
  std::uint64_t samples = 0;  // dataset size n
  std::uint32_t consumers = 1;
  std::uint64_t batch_size = 1;
  bool drop_last = true;
  bool shuffle = true;
  std::uint64_t seed = 0;
};

class EpochPlan {
 public:
  EpochPlan(const ShareSpec& spec, std::uint64_t epoch);

  std::uint64_t epoch() const noexcept { return epoch_; }
  std::uint64_t samples_per_consumer() const noexcept { return per_consumer_; }
  std::uint64_t batches_per_consumer() const noexcept { return batches_; }
  // Number of samples in batch k (batch_size except possibly the last one when !drop_last).
  std::uint64_t batch_length(std::uint64_t k) const noexcept;
  // ID of consumer c's p-th sample this epoch.
  std::uint64_t id(std::uint32_t consumer, std::uint64_t position) const noexcept;
  // Where `id` is delivered this epoch: its consumer and position in that consumer's share; false when the
  // epoch skips it (drop_last). Padding repeats are not reported (the first occurrence is).
  bool locate(std::uint64_t id, std::uint32_t& consumer, std::uint64_t& position) const noexcept;
  // IDs of consumer c's batch k, in delivery order, into `out` (resized).
  void batch_ids(std::uint32_t consumer, std::uint64_t k, std::vector<std::uint64_t>& out) const;

 private:
  ShareSpec spec_;
  std::uint64_t epoch_;
  Permutation order_;
  std::uint64_t per_consumer_;
  std::uint64_t batches_;
};

// The permutation key of (seed, epoch): every rank derives the same order.
std::uint64_t epoch_key(std::uint64_t seed, std::uint64_t epoch) noexcept;

}  // namespace ferry::sampler
