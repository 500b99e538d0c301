#include "roles/shard_positions.hpp"

#include <algorithm>

#include "core/check.hpp"

namespace ferry::roles {

ShardPositions::ShardPositions(const sampler::ShareSpec& spec, const sampler::EpochPlan& plan, KeyRange keys)
    : epoch_(plan.epoch()), batches_(plan.batches_per_consumer()) {
  const std::uint64_t c = spec.consumers, n = spec.samples, b = spec.batch_size;
  // Consumer x's p-th sample is the order's slot p x C + x, and slot s holds order[s mod n]: an ID at slot j
  // (its first delivery, locate()) comes again at j + n, j + 2n, ... up to the padded end.
  const std::uint64_t slots = plan.samples_per_consumer() * c, delivered = batches_ * b;
  struct Found {
    std::uint64_t bucket;  // consumer x batches + batch
    Own own;
  };
  std::vector<Found> found;
  found.reserve(keys.end - keys.first);
  first_.assign(c * batches_ + 1, 0);
  for (std::uint64_t id = keys.first; id < keys.end; ++id) {
    std::uint32_t consumer = 0;
    std::uint64_t position = 0;
    if (!plan.locate(id, consumer, position)) continue;
    for (std::uint64_t slot = position * c + consumer; slot < slots; slot += n) {
      const std::uint64_t x = slot % c, p = slot / c;
      if (p >= delivered) break;  // drop_last: the partial last batch
      const std::uint64_t bucket = x * batches_ + p / b;
      found.push_back({bucket, {static_cast<std::uint32_t>(p % b), id}});
      ++first_[bucket + 1];
    }
  }
  for (std::size_t i = 1; i < first_.size(); ++i) first_[i] += first_[i - 1];
  own_.resize(found.size());
  std::vector<std::uint64_t> next(first_.begin(), first_.end() - 1);
  for (const Found& f : found) own_[next[f.bucket]++] = f.own;
  for (std::size_t i = 0; i + 1 < first_.size(); ++i)
    std::sort(own_.begin() + static_cast<std::ptrdiff_t>(first_[i]),
              own_.begin() + static_cast<std::ptrdiff_t>(first_[i + 1]),
              [](const Own& a, const Own& z) { return a.position < z.position; });
}

std::span<const ShardPositions::Own> ShardPositions::batch(std::uint32_t consumer,
                                                           std::uint64_t batch) const {
  const std::uint64_t bucket = consumer * batches_ + batch;
  FERRY_ENFORCE(batch < batches_ && bucket + 1 < first_.size(), "batch ", batch, " of consumer ", consumer,
                " is not in epoch ", epoch_);
  return {own_.data() + first_[bucket], own_.data() + first_[bucket + 1]};
}

}  // namespace ferry::roles
