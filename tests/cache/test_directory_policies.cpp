// The cache directory's policies: their names, the shapes and entry sizes a directory refuses, and what
// each policy admits and evicts (static fill never evicts, LRU the least recently used, clairvoyant the
// farthest next use), pinned entries kept.
#include <gtest/gtest.h>

#include <vector>

#include "cache/directory.hpp"
#include "directory_store.hpp"
#include "ferry/error.hpp"
#include "oracle.hpp"

namespace ferry::cache {
namespace {

using testing::key;
using testing::store;
using testing::TableOracle;

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

}  // namespace
}  // namespace ferry::cache
