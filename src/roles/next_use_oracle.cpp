// NextUseOracle (randomizer_state.hpp): the clairvoyant policy's look into every pipeline's future order.
#include <algorithm>

#include "roles/randomizer_state.hpp"

namespace ferry::roles {
namespace {

// The epoch of the pipeline's slowest consumer.
std::uint64_t current_epoch(const RandomizerPipeline& p) {
  std::uint64_t seq = ~std::uint64_t{0};
  for (const auto& c : p.consumers) seq = std::min(seq, c.next_seq);
  return p.batches_per_epoch ? seq / p.batches_per_epoch : 0;
}

}  // namespace

std::uint64_t NextUseOracle::next_use(const cache::Key& key) const {
  std::uint64_t best = cache::kNever;
  for (const auto& p : pipelines_) {
    if (p.cache != share_ || p.runtime->group != key.group) continue;
    for (std::uint64_t e = 0; e < 2; ++e) {
      const std::uint64_t epoch = p.consumers.empty() ? 0 : current_epoch(p) + e;
      if (epoch >= static_cast<std::uint64_t>(p.config->epochs)) break;
      sampler::EpochPlan plan(p.share, epoch);
      std::uint32_t consumer = 0;
      std::uint64_t position = 0;
      if (!plan.locate(key.id, consumer, position)) continue;
      const std::uint64_t step = epoch * p.batches_per_epoch + position / p.share.batch_size;
      const std::uint64_t now = p.consumers[consumer].next_seq;
      if (step >= now) {
        best = std::min(best, step);  // absolute: the directory caches next uses and compares them later
        break;
      }
    }
  }
  return best;
}

}  // namespace ferry::roles
