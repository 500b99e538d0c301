// Randomized stress of the directory under every policy: random sizes, admissions, acks, aborts, pins (by
// find's own and by pin()), unpins and a dropped server, checked after every step against a model of what the
// randomizer was told.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cache/directory.hpp"
#include "core/hash.hpp"

using ferry::cache::Directory;
using ferry::cache::Key;
using ferry::cache::KeyHash;
using ferry::cache::kNever;
using ferry::cache::Location;
using ferry::cache::Policy;
using ferry::cache::SlabAllocator;

namespace {

constexpr std::uint32_t kServers = 3;
constexpr std::uint64_t kBytesPerServer = 20000;  // not a multiple of 64 on purpose
constexpr std::uint64_t kKeys = 120;  // about three times what fits: hits, declines and evictions all happen

// Next use drawn from a hash of (key, clock): arbitrary but fixed while the clock stands, as the contract
// asks.
class ClockOracle : public ferry::cache::NextUse {
 public:
  std::uint64_t clock = 0;
  std::uint64_t next_use(const Key& key) const override {
    const std::uint64_t h = ferry::hash_combine(ferry::hash_combine(key.group, key.id), clock);
    return h % 16 == 0 ? kNever : clock + 1 + h % 1000;
  }
};

struct ModelEntry {
  Location location;
  bool stored = false;
  std::uint32_t pins = 0;
};

class DirectoryStress : public ::testing::TestWithParam<Policy> {
 protected:
  // What the directory must agree with: ranges per server, counts, and which keys it may not drop.
  void check(const Directory& dir) {
    std::vector<std::vector<std::pair<std::uint64_t, std::uint64_t>>> ranges(kServers);
    std::uint64_t stored = 0, pending = 0, pending_bytes = 0;
    for (const auto& [key, entry] : model_) {
      ranges[entry.location.server].emplace_back(entry.location.offset,
                                                 SlabAllocator::reserved_size(entry.location.bytes));
      ++(entry.stored ? stored : pending);
      pending_bytes += entry.stored ? 0 : entry.location.bytes;
      ASSERT_TRUE(dir.contains(key));
      ASSERT_EQ(dir.is_pending(key), !entry.stored);
    }
    for (std::uint32_t s = 0; s < kServers; ++s) {
      std::sort(ranges[s].begin(), ranges[s].end());
      std::uint64_t end = 0, sum = 0;
      for (const auto& [offset, length] : ranges[s]) {
        ASSERT_EQ(offset % 64, 0u);
        ASSERT_GE(offset, end) << "server " << s << ": overlapping ranges";
        end = offset + length;
        sum += length;
      }
      ASSERT_LE(end, kBytesPerServer) << "server " << s << ": range past the slab";
      ASSERT_EQ(dir.used_bytes(s), sum);
      ASSERT_LE(dir.used_bytes(s), kBytesPerServer);
    }
    ASSERT_EQ(dir.stats().entries, stored);
    ASSERT_EQ(dir.stats().pending, pending);
    ASSERT_EQ(dir.stats().pending_bytes, pending_bytes);
    dir.audit();
  }

  std::unordered_map<Key, ModelEntry, KeyHash> model_;
};

}  // namespace

TEST_P(DirectoryStress, InvariantsHoldAfterEveryStep) {
  ClockOracle oracle;
  Directory dir(kServers, kBytesPerServer, GetParam(), &oracle);
  std::mt19937_64 rng(2024 + static_cast<int>(GetParam()));
  std::vector<Key> pins;  // one element per outstanding consumer read
  std::vector<Key> evicted;
  std::uint64_t hits = 0, admitted = 0;

  for (int step = 0; step < 20000; ++step) {
    const unsigned op = rng() % 100;
    oracle.clock = step;
    if (op < 55) {  // a batch sample is looked up: hit (maybe pinned), or admitted
      const Key key{7, rng() % kKeys};
      auto it = model_.find(key);
      // Half the hits are pinned: by find's own pin (the describe path's) or by pin() after it.
      const unsigned pin = rng() % 4;
      const auto found = dir.find(key, pin == 0);
      if (it != model_.end() && it->second.stored) {
        ASSERT_EQ(found, it->second.location) << "a stored entry moved";
        ++hits;
        if (pin < 2) {
          if (pin == 1) dir.pin(key);
          ++it->second.pins;
          pins.push_back(key);
        }
      } else {
        ASSERT_FALSE(found.has_value()) << "a pending or absent key was a hit";
        if (it == model_.end()) {
          const std::uint64_t bytes = rng() % 8 == 0 ? rng() % 64 : 1 + rng() % 2000;
          evicted.clear();
          const auto location = dir.admit(key, bytes, &evicted);
          for (const Key& gone : evicted) {
            auto victim = model_.find(gone);
            ASSERT_NE(victim, model_.end()) << "evicted a key that was not there";
            ASSERT_TRUE(victim->second.stored) << "evicted a pending entry";
            ASSERT_EQ(victim->second.pins, 0u) << "evicted a pinned entry";
            model_.erase(victim);
          }
          if (location) {
            // Its own server, or another one with free room (then nothing was evicted for it).
            ASSERT_TRUE(location->server == dir.server_of(key) || evicted.empty());
            ASSERT_EQ(location->bytes, bytes);
            model_[key] = ModelEntry{*location, false, 0};
            ++admitted;
          } else {
            ASSERT_TRUE(evicted.empty() || GetParam() != Policy::static_fill);
          }
        }
      }
    } else if (op < 80) {  // a server acks an insert, or it failed
      std::vector<Key> waiting;
      for (const auto& [key, entry] : model_)
        if (!entry.stored) waiting.push_back(key);
      if (!waiting.empty()) {
        std::sort(waiting.begin(), waiting.end(),
                  [](const Key& a, const Key& b) { return a.id < b.id; });  // map order is not portable
        const Key key = waiting[rng() % waiting.size()];
        if (rng() % 5 == 0) {
          ASSERT_TRUE(dir.abort_pending(key));
          model_.erase(key);
        } else {
          ASSERT_TRUE(dir.mark_stored(key));
          model_[key].stored = true;
        }
      }
    } else if (op < 99) {  // a consumer reports a batch done
      if (!pins.empty()) {
        const std::size_t i = rng() % pins.size();
        const Key key = pins[i];
        pins[i] = pins.back();
        pins.pop_back();
        ASSERT_TRUE(dir.unpin(key));
        --model_[key].pins;
      }
    } else if (step % 4000 == 3999 || rng() % 50 == 0) {  // rarely, a cache server leaves
      const std::uint32_t s = rng() % kServers;
      std::unordered_set<Key, ferry::cache::KeyHash> gone;
      for (const auto& [key, entry] : model_)
        if (entry.location.server == s) gone.insert(key);
      std::erase_if(model_, [&](const auto& kv) { return gone.count(kv.first) > 0; });
      ASSERT_EQ(dir.drop_server(s), gone.size());
      std::erase_if(pins, [&](const Key& key) {
        if (!gone.count(key)) return false;
        EXPECT_FALSE(dir.unpin(key));
        return true;
      });
    }
    check(dir);
    if (HasFatalFailure()) {
      ADD_FAILURE() << "at step " << step;
      return;
    }
  }
  // The run must have exercised the interesting paths.
  const auto& stats = dir.stats();
  std::printf("%-12s hits %llu admitted %llu declined %llu evictions %llu dropped %llu\n",
              ferry::cache::policy_name(GetParam()), static_cast<unsigned long long>(hits),
              static_cast<unsigned long long>(admitted), static_cast<unsigned long long>(stats.declined),
              static_cast<unsigned long long>(stats.evictions),
              static_cast<unsigned long long>(stats.dropped));
  EXPECT_GT(hits, 500u);
  EXPECT_GT(admitted, 150u);
  EXPECT_GT(stats.declined, 100u);
  if (GetParam() == Policy::static_fill) {
    EXPECT_EQ(stats.evictions, 0u);
  } else {
    EXPECT_GT(stats.evictions, 100u);
  }
  EXPECT_EQ(dir.stats().hits, hits);
}

INSTANTIATE_TEST_SUITE_P(Policies, DirectoryStress,
                         ::testing::Values(Policy::static_fill, Policy::lru, Policy::clairvoyant),
                         [](const auto& info) { return std::string(ferry::cache::policy_name(info.param)); });
