// The cache directory's servers: keys spread evenly and stably over them, a dropped server's entries
// forgotten, servers starting and stopping to serve, and a handover restoring every entry where it was.
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

}  // namespace
}  // namespace ferry::cache
