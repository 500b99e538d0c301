// The pending state of a cache entry (admitted, insert in flight): never a hit, released when the insert
// fails, its bytes counted (what runtime.inserts_in_flight_bytes bounds), and stale acks and give-backs of a
// slab that stopped serving kept off the key's new entry.
#include <gtest/gtest.h>

#include "cache/directory.hpp"
#include "ferry/error.hpp"
#include "oracle.hpp"

using ferry::cache::Directory;
using ferry::cache::Key;
using ferry::cache::Policy;
using ferry::cache::testing::key;

namespace {

// The first ID, from `from` on, whose key hashes to slab 0 while every slab serves.
std::uint64_t on_slab0(const Directory& dir, std::uint64_t from = 0) {
  while (dir.server_of(key(from)) != 0) ++from;
  return from;
}

}  // namespace

TEST(Directory, PendingIsNeverAHit) {
  Directory dir(1, 4096, Policy::lru, nullptr);
  const auto location = dir.admit(key(1), 100, nullptr);
  ASSERT_TRUE(location.has_value());
  EXPECT_EQ(location->bytes, 100u);
  EXPECT_TRUE(dir.is_pending(key(1)));
  EXPECT_FALSE(dir.find(key(1)).has_value());
  EXPECT_THROW(dir.pin(key(1)), ferry::InternalError);
  EXPECT_THROW(dir.admit(key(1), 100, nullptr), ferry::InternalError);
  EXPECT_EQ(dir.stats().misses, 1u);
  EXPECT_EQ(dir.stats().pending, 1u);
  ASSERT_TRUE(dir.mark_stored(key(1)));
  EXPECT_FALSE(dir.mark_stored(key(1)));
  EXPECT_EQ(dir.find(key(1)), location);
  EXPECT_EQ(dir.stats().hits, 1u);
  EXPECT_EQ(dir.stats().entries, 1u);
  EXPECT_EQ(dir.stats().pending, 0u);
}

TEST(Directory, AbortReleasesTheRange) {
  Directory dir(1, 128, Policy::static_fill, nullptr);
  ASSERT_TRUE(dir.admit(key(1), 128, nullptr));
  EXPECT_FALSE(dir.admit(key(2), 64, nullptr));
  EXPECT_TRUE(dir.abort_pending(key(1)));
  EXPECT_FALSE(dir.abort_pending(key(1)));
  EXPECT_EQ(dir.used_bytes(0), 0u);
  EXPECT_TRUE(dir.admit(key(2), 64, nullptr));
  dir.audit();
}

// A give-back (the transformer could not fill the entry) from a slab that stopped serving is stale as well:
// it must not abort the key's new reservation on another slab, whose ack would then find nothing pending.
TEST(Directory, StaleGiveBackOfAStoppedSlabDoesNotAbortTheNewEntry) {
  Directory dir(2, 64 * 8, Policy::lru, nullptr);
  const std::uint64_t id = on_slab0(dir);
  ASSERT_TRUE(dir.admit(key(id), 64));  // pending on slab 0
  EXPECT_EQ(dir.stop_serving(0), 1u);
  const auto again = dir.admit(key(id), 64);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->server, 1u);
  EXPECT_FALSE(dir.abort_pending(key(id), 0)) << "the old slab's give-back is stale";
  EXPECT_TRUE(dir.is_pending(key(id)));
  EXPECT_EQ(dir.stats().pending_bytes, 64u);
  EXPECT_TRUE(dir.abort_pending(key(id), 1));
  EXPECT_EQ(dir.stats().pending_bytes, 0u);
  dir.audit();
}

// The bytes of the inserts in flight (what bounds them: runtime.inserts_in_flight_bytes) follow every way
// an entry leaves pending: stored, aborted, dropped with its slab.
TEST(Directory, PendingBytesFollowEveryWayOutOfPending) {
  Directory dir(2, 64 * 64, Policy::lru, nullptr);
  const std::uint64_t on0 = on_slab0(dir);
  ASSERT_TRUE(dir.admit(key(on0), 100));
  ASSERT_TRUE(dir.admit(key(on0 + 5000), 300));
  ASSERT_TRUE(dir.admit(key(on0 + 9000), 1000));
  EXPECT_EQ(dir.stats().pending_bytes, 1400u);
  ASSERT_TRUE(dir.mark_stored(key(on0 + 5000)));
  EXPECT_EQ(dir.stats().pending_bytes, 1100u);
  ASSERT_TRUE(dir.abort_pending(key(on0 + 9000)));
  EXPECT_EQ(dir.stats().pending_bytes, 100u);
  EXPECT_FALSE(dir.mark_stored(key(on0 + 9000))) << "aborted: no second decrement";
  EXPECT_EQ(dir.stats().pending_bytes, 100u);
  dir.audit();
  dir.drop_server(0);
  EXPECT_EQ(dir.stats().pending_bytes, 0u);
  EXPECT_FALSE(dir.mark_stored(key(on0), 0)) << "stale ack of a dropped insert";
  EXPECT_EQ(dir.stats().pending_bytes, 0u);
  dir.audit();
}

// After a slab stops serving, a key can be admitted again on another slab while the old slab's ack and a
// consumer's old pin are still on their way: both must be recognised as stale (server-scoped calls), never
// applied to the new entry.
TEST(Directory, StaleAcksAndPinsOfAStoppedSlabDoNotTouchTheNewEntry) {
  Directory dir(2, 64 * 8, Policy::lru, nullptr);
  const std::uint64_t id = on_slab0(dir);
  const Key k = key(id), pending = key(id + 1000);
  ASSERT_TRUE(dir.admit(k, 64));
  ASSERT_TRUE(dir.mark_stored(k, 0));
  dir.pin(k);  // a consumer reads it from slab 0
  const std::uint64_t other = on_slab0(dir, id + 1);
  ASSERT_TRUE(dir.admit(key(other), 64));  // insert in flight to slab 0
  EXPECT_EQ(dir.stop_serving(0), 2u);
  // Both come back on slab 1.
  ASSERT_TRUE(dir.admit(k, 64));
  ASSERT_TRUE(dir.admit(key(other), 64));
  EXPECT_FALSE(dir.mark_stored(key(other), 0)) << "the old slab's ack is stale";
  EXPECT_TRUE(dir.is_pending(key(other)));
  EXPECT_TRUE(dir.mark_stored(key(other), 1));
  ASSERT_TRUE(dir.mark_stored(k, 1));
  dir.pin(k);                     // a new reader of the new entry
  EXPECT_FALSE(dir.unpin(k, 0));  // the old reader's credit: not this entry's pin
  EXPECT_TRUE(dir.unpin(k, 1));   // the new reader's credit
  EXPECT_THROW(dir.unpin(k, 1), std::exception) << "pins were counted right: none left";
  EXPECT_FALSE(dir.mark_stored(pending, 0));
  dir.audit();
}
