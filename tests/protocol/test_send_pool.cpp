// The send pool's bookkeeping (roles/send_pool.hpp) and the PoolSlot that names a slot on the wire: a slot
// is free again only after its last reader answered, a pool without room says so instead of waiting, and
// which pipelines go through it follows the entry layout.
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
  const auto a = pool.take(2048, 2);  // a consumer and one cache server
  const auto b = pool.take(2048, 1);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_FALSE(pool.take(64, 1));  // full: the caller sends in messages instead
  EXPECT_EQ(pool.full(), 1u);
  pool.fetched(*a, 3);
  EXPECT_FALSE(pool.take(64, 1)) << "one of two readers answered: the slot is still in use";
  pool.fetched(*a, 1);
  const auto c = pool.take(1024, 1);
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, *a);  // the freed range, best fit
  EXPECT_EQ(pool.slots_in_use(), 2u);
  EXPECT_EQ(pool.taken(), 3u);
  EXPECT_EQ(pool.peak_bytes(), 4096u);
  EXPECT_EQ(pool.at(*b), memory.data() + *b);
}

TEST(SendPool, AnswerForASlotThatHoldsNothingIsAnError) {
  std::vector<std::byte> memory(1024);
  SendPool pool(memory);
  const auto a = pool.take(512, 1);
  ASSERT_TRUE(a);
  pool.fetched(*a, 4);
  EXPECT_THROW(pool.fetched(*a, 4), InternalError);  // answered twice
  EXPECT_THROW(pool.fetched(999, 4), InternalError);
}

TEST(SendPool, NoMemoryNoSlotAndNothingLargerThanThePool) {
  SendPool none({});
  EXPECT_FALSE(none.enabled());
  EXPECT_FALSE(none.take(64, 1));
  std::vector<std::byte> memory(1000);  // usable: 960, whole cache lines
  SendPool pool(memory);
  EXPECT_FALSE(pool.take(961, 1));
  EXPECT_TRUE(pool.take(960, 1));
  EXPECT_EQ(pool.full(), 1u);
}

TEST(SendPool, EntriesSitOnCacheLines) {
  EXPECT_EQ(SendPool::stride(76808), 76864u);
  EXPECT_EQ(SendPool::stride(65536), 65536u);
}

TEST(SendPool, OnlyLargeFixedEntriesGoThroughIt) {
  EntryLayout large{true, kPoolEntryBytes, {kPoolEntryBytes - 8, 8}, {0, kPoolEntryBytes - 8}};
  EntryLayout small{true, kPoolEntryBytes - 1, {kPoolEntryBytes - 9, 8}, {0, kPoolEntryBytes - 9}};
  EntryLayout variable{false, 0, {0, 8}, {}};
  EXPECT_TRUE(uses_send_pool(large));
  EXPECT_FALSE(uses_send_pool(small));
  EXPECT_FALSE(uses_send_pool(variable));
}

TEST(Protocol, PoolSlotRoundTripsAndRefusesEntriesLongerThanTheirStride) {
  Writer w;
  encode(w, PoolSlot{1ull << 33, 76864, 76808});
  Reader r(w.view());
  PoolSlot back;
  decode(r, back);
  EXPECT_EQ(back.offset, 1ull << 33);
  EXPECT_EQ(back.stride, 76864u);
  EXPECT_EQ(back.length, 76808u);
  Writer bad;
  bad.u(0).u(64).u(65);
  Reader rb(bad.view());
  EXPECT_THROW(decode(rb, back), Error);
}

}  // namespace
}  // namespace ferry::roles
