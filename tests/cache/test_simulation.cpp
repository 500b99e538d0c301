// Hit rates of the three policies on the access pattern they are for: a dataset read in a fresh seeded
// shuffle every epoch, with a cache that holds a quarter of it. The clairvoyant policy's oracle knows the
// order from the sampler's permutations, as the randomizer does.
//
// Why static and clairvoyant tie on one pipeline: every ID is read once per epoch, so a hit in epoch e+1
// needs the entry to be resident across the e/e+1 boundary, and at most `capacity` entries are. Hits per
// epoch are therefore <= capacity, which static reaches by never evicting. Belady pulls ahead when entries
// are read more than once per epoch, e.g. by two pipelines that share them (second test).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <unordered_map>
#include <vector>

#include "cache/directory.hpp"
#include "sampler/epoch_plan.hpp"
#include "sampler/permutation.hpp"

using ferry::cache::Directory;
using ferry::cache::Key;
using ferry::cache::kNever;
using ferry::cache::Policy;
using ferry::sampler::EpochPlan;
using ferry::sampler::Permutation;
using ferry::sampler::ShareSpec;

namespace {

constexpr std::uint64_t kSamples = 2000;
constexpr std::uint64_t kCachedEntries = 500;
constexpr std::uint64_t kEntryBytes = 1024;
constexpr std::uint64_t kEpochs = 4;
constexpr std::uint64_t kBatch = 32;
constexpr std::uint64_t kDelivered = kSamples / kBatch * kBatch;  // drop_last skips the tail of each order
constexpr std::uint64_t kGroup = 0xfe77;

ShareSpec share(std::uint64_t seed) {
  return ShareSpec{kSamples, 1, kBatch, true, true, seed};
}

// One pipeline. Next use = global access index (epoch * kDelivered + position) of the key's next access
// after `now`, from the permutations of the current and the next epoch, as a randomizer planning one epoch
// ahead computes it.
class PermutationOracle : public ferry::cache::NextUse {
 public:
  explicit PermutationOracle(std::uint64_t seed) {
    for (std::uint64_t e = 0; e < kEpochs; ++e)
      orders_.emplace_back(kSamples, ferry::sampler::epoch_key(seed, e));
  }
  std::uint64_t now = 0;
  std::uint64_t next_use(const Key& key) const override {
    const std::uint64_t epoch = now / kDelivered;
    for (std::uint64_t e = epoch; e < std::min(epoch + 2, kEpochs); ++e) {
      const std::uint64_t position = orders_[e].position_of(key.id);
      const std::uint64_t when = e * kDelivered + position;
      if (position < kDelivered && when > now) return when;
    }
    return kNever;
  }

 private:
  std::vector<Permutation> orders_;
};

// Any access sequence known in full: next use by binary search in each key's list of access indices.
class SequenceOracle : public ferry::cache::NextUse {
 public:
  explicit SequenceOracle(const std::vector<std::uint64_t>& ids) {
    for (std::uint64_t t = 0; t < ids.size(); ++t) times_[ids[t]].push_back(t);
  }
  std::uint64_t now = 0;
  std::uint64_t next_use(const Key& key) const override {
    const auto& times = times_.at(key.id);
    auto it = std::upper_bound(times.begin(), times.end(), now);
    return it == times.end() ? kNever : *it;
  }

 private:
  std::unordered_map<std::uint64_t, std::vector<std::uint64_t>> times_;
};

struct HitRates {
  std::vector<double> per_epoch;  // hits / accesses of each epoch
  double overall = 0;
};

// Plays `ids` (kBatch at a time; an epoch is `per_epoch` accesses) against a directory of `servers`
// holding kCachedEntries in all. Hits are pinned until their batch is done; a miss is admitted and acked.
template <typename Oracle>
HitRates play(const std::vector<std::uint64_t>& ids, std::uint64_t per_epoch, Oracle& oracle, Policy policy,
              std::uint32_t servers, const char* label) {
  Directory dir(servers, kCachedEntries * kEntryBytes / servers, policy, &oracle);
  HitRates rates;
  std::vector<Key> pinned;
  std::uint64_t hits = 0, epoch_hits = 0;
  for (std::uint64_t t = 0; t < ids.size(); ++t) {
    oracle.now = t;
    const Key key{kGroup, ids[t]};
    if (dir.find(key)) {
      dir.pin(key);
      pinned.push_back(key);
      ++epoch_hits;
    } else if (!dir.is_pending(key) && dir.admit(key, kEntryBytes, nullptr)) {
      dir.mark_stored(key);
    }
    if ((t + 1) % kBatch == 0) {
      for (const Key& done : pinned) dir.unpin(done);
      pinned.clear();
      for (std::uint32_t s = 0; s < servers; ++s) EXPECT_LE(dir.used_bytes(s), dir.capacity());
    }
    if ((t + 1) % per_epoch == 0) {
      rates.per_epoch.push_back(static_cast<double>(epoch_hits) / per_epoch);
      hits += epoch_hits;
      epoch_hits = 0;
    }
  }
  EXPECT_EQ(dir.stats().hits, hits);
  dir.audit();
  rates.overall = static_cast<double>(hits) / ids.size();
  std::printf("%-10s %u server(s) %-12s hit rate %.3f (epochs:", label, servers,
              ferry::cache::policy_name(policy), rates.overall);
  for (double rate : rates.per_epoch) std::printf(" %.3f", rate);
  std::printf(")\n");
  return rates;
}

// Epochs of one consumer's order, as EpochPlan delivers them.
std::vector<std::uint64_t> epochs_of(std::uint64_t seed) {
  std::vector<std::uint64_t> ids, batch;
  for (std::uint64_t e = 0; e < kEpochs; ++e) {
    const EpochPlan plan(share(seed), e);
    for (std::uint64_t k = 0; k < plan.batches_per_consumer(); ++k) {
      plan.batch_ids(0, k, batch);
      ids.insert(ids.end(), batch.begin(), batch.end());
    }
  }
  return ids;
}

}  // namespace

class CacheSimulation : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(CacheSimulation, OnePipelineStaticIsOptimalAndLruThrashes) {
  const std::uint32_t servers = GetParam();
  const std::vector<std::uint64_t> ids = epochs_of(99);
  ASSERT_EQ(ids.size(), kEpochs * kDelivered);
  HitRates rates[3];
  const Policy policies[] = {Policy::static_fill, Policy::lru, Policy::clairvoyant};
  for (int p = 0; p < 3; ++p) {
    PermutationOracle oracle(99);
    rates[p] = play(ids, kDelivered, oracle, policies[p], servers, "1 pipeline");
  }
  const HitRates& fill = rates[0];
  const HitRates& lru = rates[1];
  const HitRates& belady = rates[2];
  const double bound = static_cast<double>(kCachedEntries) / kDelivered;  // hits per epoch <= capacity
  EXPECT_EQ(fill.per_epoch[0], 0.0);
  for (std::uint64_t e = 1; e < kEpochs; ++e) {
    // Static keeps what the first epoch brought in: a quarter of the IDs, less the few drop_last skips.
    EXPECT_NEAR(fill.per_epoch[e], static_cast<double>(kCachedEntries) / kSamples, 0.01) << "epoch " << e;
    EXPECT_NEAR(belady.per_epoch[e], bound, 1e-9) << "epoch " << e;
  }
  // LRU keeps the last 500 accesses; an ID comes back that soon with probability ~ (500/2000)^2 / 2.
  EXPECT_LT(lru.overall, 0.06);
  EXPECT_GE(belady.overall, fill.overall);
  // Static hits a quarter of every epoch but the first.
  EXPECT_NEAR(fill.overall, (kEpochs - 1.0) / kEpochs * static_cast<double>(kCachedEntries) / kSamples, 0.01);
  EXPECT_GT(belady.overall, lru.overall);
  for (const HitRates& r : rates)
    for (double rate : r.per_epoch) EXPECT_LE(rate, bound + 1e-9);
}

TEST_P(CacheSimulation, TwoPipelinesSharingEntriesFavourClairvoyant) {
  // Two pipelines with the same prepare stage (same key group) and different seeds, batches interleaved.
  const std::uint32_t servers = GetParam();
  const std::vector<std::uint64_t> a = epochs_of(1), b = epochs_of(2);
  std::vector<std::uint64_t> ids;
  for (std::uint64_t start = 0; start < a.size(); start += kBatch) {
    ids.insert(ids.end(), a.begin() + start, a.begin() + start + kBatch);
    ids.insert(ids.end(), b.begin() + start, b.begin() + start + kBatch);
  }
  HitRates rates[3];
  const Policy policies[] = {Policy::static_fill, Policy::lru, Policy::clairvoyant};
  for (int p = 0; p < 3; ++p) {
    SequenceOracle oracle(ids);
    rates[p] = play(ids, 2 * kDelivered, oracle, policies[p], servers, "shared");
  }
  EXPECT_GT(rates[2].overall, 1.2 * rates[0].overall);
  EXPECT_GT(rates[2].overall, rates[1].overall);
  EXPECT_NEAR(rates[0].per_epoch.back(), static_cast<double>(kCachedEntries) / kSamples, 0.01);
}

INSTANTIATE_TEST_SUITE_P(Servers, CacheSimulation, ::testing::Values(1u, 2u),
                         [](const auto& info) { return std::to_string(info.param); });
