#include <gtest/gtest.h>

#include <vector>

#include "cache/directory.hpp"
#include "ferry/error.hpp"
#include "oracle.hpp"

using ferry::cache::Directory;
using ferry::cache::Key;
using ferry::cache::kNever;
using ferry::cache::Location;
using ferry::cache::Policy;
using ferry::cache::testing::key;
using ferry::cache::testing::TableOracle;

namespace {

// Admits and acks `id` as a 64-byte entry; fails the test when declined.
Location store(Directory& dir, std::uint64_t id, std::vector<Key>* evicted = nullptr) {
  auto location = dir.admit(key(id), 64, evicted);
  EXPECT_TRUE(location.has_value()) << "key " << id << " declined";
  EXPECT_TRUE(dir.mark_stored(key(id)));
  return location.value_or(Location{});
}

}  // namespace

TEST(CachePolicy, ParsesItsNames) {
  for (Policy p : {Policy::static_fill, Policy::lru, Policy::clairvoyant}) {
    Policy parsed = Policy::lru;
    ASSERT_TRUE(ferry::cache::parse_policy(ferry::cache::policy_name(p), parsed));
    EXPECT_EQ(parsed, p);
  }
  Policy untouched = Policy::lru;
  EXPECT_FALSE(ferry::cache::parse_policy("belady", untouched));
  EXPECT_FALSE(ferry::cache::parse_policy("", untouched));
  EXPECT_EQ(untouched, Policy::lru);
}

TEST(Directory, RejectsBadShapes) {
  EXPECT_THROW(Directory(0, 4096, Policy::lru, nullptr), ferry::ConfigError);
  EXPECT_THROW(Directory(1, 63, Policy::lru, nullptr), ferry::ConfigError);
  EXPECT_THROW(Directory(1, 4096, Policy::clairvoyant, nullptr), ferry::InternalError);
}

TEST(Directory, OversizedEntryNamesBothSizes) {
  TableOracle oracle;
  for (Policy p : {Policy::static_fill, Policy::lru, Policy::clairvoyant}) {
    Directory dir(2, 4194304, p, &oracle);
    try {
      dir.admit(key(1), 5000000, nullptr);
      FAIL() << "no error for policy " << ferry::cache::policy_name(p);
    } catch (const ferry::ConfigError& e) {
      EXPECT_STREQ(e.what(),
                   "a cache entry of 5000000 bytes does not fit a cache server of 4194304 bytes "
                   "(raise runtime.cache_bytes)");
    }
    EXPECT_EQ(dir.stats().declined, 0u);
    EXPECT_EQ(dir.used_bytes(0) + dir.used_bytes(1), 0u);
  }
  // Fits the configured size but not once aligned: the message says so.
  Directory odd(1, 1000, Policy::static_fill, nullptr);
  EXPECT_TRUE(odd.admit(key(1), 960, nullptr).has_value());
  try {
    odd.admit(key(2), 999, nullptr);
    FAIL();
  } catch (const ferry::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("once aligned to 64 bytes"), std::string::npos) << e.what();
  }
}

TEST(Directory, StaticFillsThenDeclinesAndNeverEvicts) {
  Directory dir(1, 64 * 4, Policy::static_fill, nullptr);
  for (std::uint64_t id = 0; id < 4; ++id) store(dir, id);
  std::vector<Key> evicted;
  for (std::uint64_t id = 4; id < 20; ++id) EXPECT_FALSE(dir.admit(key(id), 64, &evicted));
  EXPECT_TRUE(evicted.empty());
  EXPECT_EQ(dir.stats().evictions, 0u);
  EXPECT_EQ(dir.stats().declined, 16u);
  for (std::uint64_t id = 0; id < 4; ++id) EXPECT_TRUE(dir.find(key(id)).has_value());
  dir.audit();
}

TEST(Directory, LruEvictsTheLeastRecentlyUsed) {
  Directory dir(1, 64 * 4, Policy::lru, nullptr);
  for (std::uint64_t id = 0; id < 4; ++id) store(dir, id);
  ASSERT_TRUE(dir.find(key(0)));  // order now 1 2 3 0
  std::vector<Key> evicted;
  const Location at = store(dir, 4, &evicted);
  ASSERT_EQ(evicted, std::vector<Key>{key(1)});
  EXPECT_EQ(at.offset, 64u);      // key 1's slot, reused
  ASSERT_TRUE(dir.find(key(2)));  // order 3 0 4 2
  evicted.clear();
  store(dir, 5, &evicted);
  EXPECT_EQ(evicted, std::vector<Key>{key(3)});
  EXPECT_EQ(dir.stats().evictions, 2u);
  dir.audit();
}

TEST(Directory, LruSkipsPinnedEntriesAndDeclinesWhenAllArePinned) {
  Directory dir(1, 64 * 3, Policy::lru, nullptr);
  for (std::uint64_t id = 0; id < 3; ++id) store(dir, id);
  dir.pin(key(0));
  dir.pin(key(0));  // two readers
  std::vector<Key> evicted;
  store(dir, 3, &evicted);
  EXPECT_EQ(evicted, std::vector<Key>{key(1)});
  dir.pin(key(2));
  dir.pin(key(3));
  EXPECT_FALSE(dir.admit(key(4), 64, &evicted));
  ASSERT_TRUE(dir.unpin(key(0)));
  EXPECT_FALSE(dir.admit(key(4), 64, &evicted));  // one reader left
  ASSERT_TRUE(dir.unpin(key(0)));
  EXPECT_THROW(dir.unpin(key(0)), ferry::InternalError);
  evicted.clear();
  store(dir, 4, &evicted);
  EXPECT_EQ(evicted, std::vector<Key>{key(0)});
  dir.audit();
}

TEST(Directory, LruDoesNotEvictForAnEntryThatCannotFit) {
  // 3 slots, two pinned: a two-slot entry cannot fit even if the third is evicted, so nothing is.
  Directory dir(1, 64 * 3, Policy::lru, nullptr);
  for (std::uint64_t id = 0; id < 3; ++id) store(dir, id);
  dir.pin(key(0));
  dir.pin(key(2));
  std::vector<Key> evicted;
  EXPECT_FALSE(dir.admit(key(9), 128, &evicted));
  EXPECT_TRUE(evicted.empty());
  EXPECT_TRUE(dir.find(key(1)).has_value());
}

TEST(Directory, ClairvoyantEvictsTheFarthestNextUse) {
  TableOracle oracle;
  Directory dir(1, 64 * 4, Policy::clairvoyant, &oracle);
  const std::uint64_t when[] = {10, 50, 30, 20};
  for (std::uint64_t id = 0; id < 4; ++id) {
    oracle.set(key(id), when[id]);
    store(dir, id);
  }
  std::vector<Key> evicted;
  oracle.set(key(4), 40);
  store(dir, 4, &evicted);
  EXPECT_EQ(evicted, std::vector<Key>{key(1)});  // 50 > 40
  // Key 5 is needed after every resident (10 30 20 40): Belady with bypass declines it.
  oracle.set(key(5), 60);
  evicted.clear();
  EXPECT_FALSE(dir.admit(key(5), 64, &evicted));
  EXPECT_TRUE(evicted.empty());
  // A key needed by nobody is not admitted even into free space.
  Directory roomy(1, 4096, Policy::clairvoyant, &oracle);
  EXPECT_FALSE(roomy.admit(key(77), 64, nullptr));
  EXPECT_EQ(roomy.stats().unneeded, 1u);
  EXPECT_EQ(roomy.stats().declined, 0u) << "not for want of room";
  EXPECT_EQ(dir.stats().declined, 1u);
  dir.audit();
}

TEST(Directory, ClairvoyantFollowsUsesAndSkipsPinned) {
  TableOracle oracle;
  Directory dir(1, 64 * 3, Policy::clairvoyant, &oracle);
  for (std::uint64_t id = 0; id < 3; ++id) {
    oracle.set(key(id), 10 + id);  // 10 11 12
    store(dir, id);
  }
  // Key 0 is used; its next use moves to 100, making it the farthest.
  ASSERT_TRUE(dir.find(key(0)));
  oracle.set(key(0), 100);
  std::vector<Key> evicted;
  oracle.set(key(3), 50);
  store(dir, 3, &evicted);
  EXPECT_EQ(evicted, std::vector<Key>{key(0)});
  // Pinned, key 3 (50) cannot go; 11 and 12 are needed sooner than key 4 (40): declined.
  dir.pin(key(3));
  oracle.set(key(4), 40);
  EXPECT_FALSE(dir.admit(key(4), 64, &evicted));
  ASSERT_TRUE(dir.unpin(key(3)));
  evicted.clear();
  store(dir, 4, &evicted);
  EXPECT_EQ(evicted, std::vector<Key>{key(3)});
  dir.audit();
}

TEST(Directory, ClairvoyantRereadsAFartherHorizon) {
  TableOracle oracle;
  Directory dir(1, 64 * 2, Policy::clairvoyant, &oracle);
  oracle.set(key(0), kNever - 1);  // beyond the horizon for now
  oracle.set(key(1), 30);
  store(dir, 0);
  store(dir, 1);
  // The next epoch is planned: key 0 turns out to be needed at 5, so key 1 is the farthest now.
  oracle.set(key(0), 5);
  oracle.set(key(2), 20);
  std::vector<Key> evicted;
  store(dir, 2, &evicted);
  EXPECT_EQ(evicted, std::vector<Key>{key(1)});
}

TEST(Directory, ServerOfIsStableAndBalanced) {
  Directory dir(4, 4096, Policy::static_fill, nullptr);
  Directory again(4, 4096, Policy::lru, nullptr);
  std::vector<int> counts(4, 0);
  for (std::uint64_t id = 0; id < 10000; ++id) {
    const std::uint32_t s = dir.server_of(key(id));
    ASSERT_LT(s, 4u);
    ASSERT_EQ(s, again.server_of(key(id)));
    ++counts[s];
  }
  for (int c : counts) EXPECT_NEAR(c, 2500, 250);
  // Admission places an entry on its key's server.
  const auto at = dir.admit(key(3), 10, nullptr);
  ASSERT_TRUE(at);
  EXPECT_EQ(at->server, dir.server_of(key(3)));
}

TEST(Directory, DropServerForgetsItsEntries) {
  Directory dir(2, 64 * 16, Policy::lru, nullptr);  // room for all 12: nothing is evicted
  std::uint64_t on_zero = 0;
  Key pinned{}, pending{};
  for (std::uint64_t id = 0; id < 12; ++id) {
    ASSERT_TRUE(dir.admit(key(id), 64, nullptr));
    const bool first_on_zero = dir.server_of(key(id)) == 0 && on_zero++ == 0;
    if (first_on_zero) {
      pending = key(id);  // stays pending
      continue;
    }
    if (dir.server_of(key(id)) == 0) pinned = key(id);
    dir.mark_stored(key(id));
  }
  ASSERT_GE(on_zero, 2u);
  dir.pin(pinned);
  const std::uint64_t other = dir.used_bytes(1);
  EXPECT_EQ(dir.drop_server(0), on_zero);
  EXPECT_EQ(dir.used_bytes(0), 0u);
  EXPECT_EQ(dir.used_bytes(1), other);
  EXPECT_FALSE(dir.unpin(pinned));
  EXPECT_FALSE(dir.mark_stored(pending));
  EXPECT_FALSE(dir.find(pinned));
  EXPECT_EQ(dir.stats().dropped, on_zero);
  dir.audit();
}

// Role rebalancing: a reserve slab starts serving (capacity grows, new keys spread over it, old entries stay
// where they are), and a serving one stops (its entries dropped and counted, the others untouched).
TEST(Directory, ServersStartAndStopServing) {
  Directory dir(2, 64 * 8, Policy::static_fill, nullptr, {true, false});
  EXPECT_TRUE(dir.serving(0));
  EXPECT_FALSE(dir.serving(1));
  EXPECT_EQ(dir.serving_count(), 1u);
  std::uint64_t admitted = 0;
  for (std::uint64_t id = 0; id < 16; ++id) {
    EXPECT_EQ(dir.server_of(key(id)), 0u) << "a reserve slab took key " << id;
    if (dir.admit(key(id), 64)) {
      dir.mark_stored(key(id));
      ++admitted;
    }
  }
  EXPECT_EQ(admitted, 8u) << "one serving slab of 8 entries";
  dir.start_serving(1);
  EXPECT_THROW(dir.start_serving(1), std::exception);
  std::uint64_t to_one = 0;
  for (std::uint64_t id = 16; id < 64; ++id) {
    const std::uint32_t s = dir.server_of(key(id));
    if (s == 1 && dir.admit(key(id), 64)) {
      dir.mark_stored(key(id));
      ++to_one;
    }
  }
  EXPECT_EQ(to_one, 8u) << "the new slab fills to its capacity";
  for (std::uint64_t id = 0; id < 8; ++id) EXPECT_TRUE(dir.find(key(id))) << "old entries stay found";
  dir.audit();
  const Key held = key(0);
  dir.pin(held);
  EXPECT_EQ(dir.stop_serving(0), 8u);
  EXPECT_FALSE(dir.unpin(held)) << "a pin dies with its server's entries";
  EXPECT_EQ(dir.stats().dropped, 8u);
  EXPECT_EQ(dir.serving_count(), 1u);
  for (std::uint64_t id = 100; id < 120; ++id) EXPECT_EQ(dir.server_of(key(id)), 1u);
  EXPECT_THROW(dir.stop_serving(1), std::exception) << "the last serving server cannot stop";
  dir.audit();
}

// A handover: the stored entries of one directory, restored into a fresh one over the same slabs, sit at
// the same locations, are hits there, and keep the LRU eviction order; a pending entry refuses.
TEST(Directory, HandoverRestoresEveryEntryWhereItIsInLruOrder) {
  Directory from(2, 64 * 4, Policy::lru, nullptr);
  std::vector<Location> at;
  for (std::uint64_t id = 0; id < 6; ++id) at.push_back(store(from, id));
  ASSERT_TRUE(from.find(key(0)));  // key 0 is now the most recently used on its server
  from.pin(key(1));
  const auto with_pin = from.stored_entries();
  ASSERT_EQ(with_pin.size(), 6u) << "a pinned entry is handed over too";
  EXPECT_EQ(with_pin.back().first, key(1)) << "pinned entries come last";
  from.unpin(key(1));  // key 1 is now the most recently used on its server
  ASSERT_TRUE(from.admit(key(9), 64));
  EXPECT_THROW(from.stored_entries(), ferry::InternalError) << "a pending entry";
  ASSERT_TRUE(from.abort_pending(key(9)));
  const auto entries = from.stored_entries();
  ASSERT_EQ(entries.size(), 6u);

  Directory to(2, 64 * 4, Policy::lru, nullptr);
  for (const auto& [k, location] : entries) ASSERT_TRUE(to.restore(k, location));
  EXPECT_FALSE(to.restore(entries.front().first, entries.front().second)) << "known already";
  EXPECT_EQ(to.stats().entries, 6u);
  for (std::uint64_t id = 0; id < 6; ++id) EXPECT_EQ(to.find(key(id)), at[id]) << "key " << id;
  to.audit();
  // Same recency in both (the finds above touched every key in both orders alike): evictions agree.
  for (std::uint64_t id = 0; id < 6; ++id) ASSERT_TRUE(from.find(key(id)));
  for (std::uint64_t id = 10; id < 14; ++id) {
    std::vector<Key> a, b;
    const auto la = from.admit(key(id), 64, &a), lb = to.admit(key(id), 64, &b);
    ASSERT_EQ(la, lb) << "key " << id;
    EXPECT_EQ(a, b) << "key " << id;
    if (la) {
      from.mark_stored(key(id));
      to.mark_stored(key(id));
    }
  }
  to.audit();
}

// restore() leaves out what cannot be put back: a server that does not serve here, or a range in use.
TEST(Directory, RestoreRefusesANonServingServerOrARangeInUse) {
  Directory to(2, 64 * 4, Policy::static_fill, nullptr, {true, false});
  EXPECT_FALSE(to.restore(key(1), Location{1, 0, 64})) << "server 1 does not serve";
  ASSERT_TRUE(to.restore(key(2), Location{0, 128, 64}));
  EXPECT_FALSE(to.restore(key(3), Location{0, 128, 64})) << "range in use";
  EXPECT_FALSE(to.restore(key(4), Location{0, 64 * 4, 64})) << "outside the slab";
  EXPECT_EQ(to.stats().entries, 1u);
  EXPECT_TRUE(to.find(key(2)));
  EXPECT_FALSE(to.find(key(3)));
  to.audit();
}
