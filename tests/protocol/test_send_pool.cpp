// The send pool's bookkeeping (roles/send_pool.hpp) and the PoolSlot that names a slot on the wire: a slot
// is free again only after its last reader answered (or, never announced, when released), a pool without
// room says so instead of waiting, a slot's layout, and which pipelines go through it.
#include <gtest/gtest.h>

#include <vector>

#include "ferry/error.hpp"
#include "roles/protocol.hpp"
#include "roles/send_pool.hpp"

namespace ferry::roles {
namespace {

TEST(SendPool, ASlotIsFreeOnlyAfterEveryReaderAnswered) {
  std::vector<std::byte> memory(4096);
  SendPool pool(memory);
  ASSERT_TRUE(pool.enabled());
  const auto a = pool.take(2048);
  const auto b = pool.take(2048);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_FALSE(pool.take(64));  // full: the caller prepares as usual, or sends in messages
  EXPECT_EQ(pool.full(), 1u);
  pool.publish(*a, 2);  // a consumer and one cache server
  pool.publish(*b, 1);
  pool.fetched(*a, 3);
  EXPECT_FALSE(pool.take(64)) << "one of two readers answered: the slot is still in use";
  pool.fetched(*a, 1);
  const auto c = pool.take(1024);
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, *a);  // the freed range, best fit
  EXPECT_EQ(pool.slots_in_use(), 2u);
  EXPECT_EQ(pool.taken(), 3u);
  EXPECT_EQ(pool.peak_bytes(), 4096u);
  EXPECT_EQ(pool.at(*b), memory.data() + *b);
}

TEST(SendPool, AHeldSlotIsReleasedOrPublishedOnce) {
  std::vector<std::byte> memory(1024);
  SendPool pool(memory);
  const auto a = pool.take(512);
  ASSERT_TRUE(a);
  EXPECT_THROW(pool.fetched(*a, 4), InternalError);  // held: announced to nobody yet
  pool.release(*a);                                  // its batch went in messages
  EXPECT_THROW(pool.release(*a), InternalError);
  const auto b = pool.take(512);
  ASSERT_TRUE(b);
  pool.publish(*b, 1);
  EXPECT_THROW(pool.publish(*b, 1), InternalError);
  EXPECT_THROW(pool.release(*b), InternalError);  // readers may be reading it
  pool.fetched(*b, 4);
  EXPECT_THROW(pool.fetched(*b, 4), InternalError);  // answered twice
  EXPECT_THROW(pool.fetched(999, 4), InternalError);
  EXPECT_EQ(pool.slots_in_use(), 0u);
}

TEST(SendPool, NoMemoryNoSlotAndNothingLargerThanThePool) {
  SendPool none({});
  EXPECT_FALSE(none.enabled());
  EXPECT_FALSE(none.take(64));
  std::vector<std::byte> memory(1000);  // usable: 960, whole cache lines
  SendPool pool(memory);
  EXPECT_FALSE(pool.take(961));
  EXPECT_TRUE(pool.take(960));
  EXPECT_EQ(pool.too_large(), 1u);  // counted apart: no wait frees room for it
  EXPECT_EQ(pool.full(), 0u);
}

TEST(SendPool, ASlotHoldsEachFieldsSamplesBackToBackOnCacheLines) {
  const std::vector<std::uint64_t> sizes{76800, 8};
  const SlotLayout at = slot_layout(sizes, 3);
  ASSERT_EQ(at.base.size(), 2u);
  EXPECT_EQ(at.base[0], 0u);
  EXPECT_EQ(at.base[1], 230400u);      // 3 x 76,800, a multiple of 64
  EXPECT_EQ(at.bytes, 230400u + 64u);  // 3 x 8 rounded up to a cache line
  EXPECT_EQ(slot_layout(sizes, 0).bytes, 128u);
}

TEST(SendPool, OnlyLargeFixedEntriesGoThroughIt) {
  EntryLayout large{true, kPoolEntryBytes, {kPoolEntryBytes - 8, 8}, {0, kPoolEntryBytes - 8}, {}};
  EntryLayout small{true, kPoolEntryBytes - 1, {kPoolEntryBytes - 9, 8}, {0, kPoolEntryBytes - 9}, {}};
  EntryLayout variable{false, 0, {0, 8}, {}, {}};
  EXPECT_TRUE(uses_send_pool(large));
  EXPECT_FALSE(uses_send_pool(small));
  EXPECT_FALSE(uses_send_pool(variable));
}

TEST(Protocol, PoolSlotRoundTripsAndRefusesSizesPastItsBounds) {
  Writer w;
  encode(w, PoolSlot{1ull << 33, 16, {602112, 8}});
  Reader r(w.view());
  PoolSlot back;
  decode(r, back);
  EXPECT_EQ(back.offset, 1ull << 33);
  EXPECT_EQ(back.entries, 16u);
  EXPECT_EQ(back.sizes, (std::vector<std::uint64_t>{602112, 8}));
  for (const PoolSlot& bad : {PoolSlot{0, (1ull << 24) + 1, {8}}, PoolSlot{0, 4, {1ull << 38, 8}}}) {
    Writer wb;
    encode(wb, bad);
    Reader rb(wb.view());
    EXPECT_THROW(decode(rb, back), Error);
  }
}

}  // namespace
}  // namespace ferry::roles
