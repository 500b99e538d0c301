// Message payload buffers kept for reuse (transport/buffer_pool.hpp): which kept buffer serves a take or a
// send's copy, the byte budget, and, over both backends, payloads and sent copies that reuse the buffers of
// handled messages and completed sends with exact bytes.
#include "transport/buffer_pool.hpp"

#include <algorithm>

#include "harness.hpp"
#include "transport/reorder.hpp"

namespace ferry::transport::testing {
namespace {

std::vector<std::byte> of_capacity(std::size_t bytes) {
  std::vector<std::byte> v;
  v.reserve(bytes);
  v.resize(bytes / 2);
  return v;
}

TEST(BufferPool, TakeReusesTheSmallestKeptBufferThatHoldsTheBytes) {
  BufferPool pool(64 << 20);
  std::vector<std::byte> small = of_capacity(8 << 10);
  std::vector<std::byte> mid = of_capacity(64 << 10);
  std::vector<std::byte> large = of_capacity(1 << 20);
  const std::byte* mid_at = mid.data();
  pool.give(std::move(large));
  pool.give(std::move(mid));
  pool.give(std::move(small));
  EXPECT_EQ(pool.stats().kept_bytes, (8u << 10) + (64u << 10) + (1u << 20));
  std::vector<std::byte> got = pool.take(50 << 10);
  EXPECT_EQ(got.size(), 50u << 10);
  EXPECT_EQ(got.data(), mid_at) << "not the 64 KiB buffer, the smallest that holds 50 KiB";
  EXPECT_EQ(pool.stats().reused, 1u);
  EXPECT_EQ(pool.stats().kept_bytes, (8u << 10) + (1u << 20));
  // Nothing kept holds 2 MiB: a new buffer, counted as taken but not reused.
  EXPECT_EQ(pool.take(2 << 20).size(), 2u << 20);
  EXPECT_EQ(pool.stats().taken, 2u);
  EXPECT_EQ(pool.stats().reused, 1u);
  // 5 KiB would fit the 8 KiB buffer; 100 KiB would fit the 1 MiB one, but not at more than twice its size.
  EXPECT_EQ(pool.take(5 << 10).capacity(), 8u << 10);
  EXPECT_LT(pool.take(100 << 10).capacity(), 1u << 20);
  EXPECT_EQ(pool.stats().kept_bytes, 1u << 20);
}

TEST(BufferPool, KeepsNothingBelowAPageOrBeyondItsBudget) {
  BufferPool pool(100 << 10);
  pool.give(of_capacity(BufferPool::kMinBytes - 1));
  EXPECT_EQ(pool.stats().kept_bytes, 0u);
  EXPECT_EQ(pool.take(100).size(), 100u);
  EXPECT_EQ(pool.stats().taken, 0u) << "small payloads are left to malloc";
  pool.give(of_capacity(64 << 10));
  pool.give(of_capacity(64 << 10));  // would make 128 KiB: freed
  EXPECT_EQ(pool.stats().kept_bytes, 64u << 10);
  pool.give(of_capacity(32 << 10));
  EXPECT_EQ(pool.stats().kept_bytes, 96u << 10);
  EXPECT_EQ(pool.stats().peak_kept_bytes, 96u << 10);
  pool.set_budget(40 << 10);  // the largest go first
  EXPECT_EQ(pool.stats().kept_bytes, 32u << 10);
  pool.set_budget(0);
  EXPECT_EQ(pool.stats().kept_bytes, 0u);
  pool.give(of_capacity(64 << 10));
  EXPECT_EQ(pool.stats().kept_bytes, 0u) << "budget 0 keeps nothing";
}

TEST(BufferPool, NewBuffersRoundUpSoThatNearSizesShareThem) {
  BufferPool pool(64 << 20);
  std::vector<std::byte> first = pool.take(786'500);  // a batch's entries and a header
  EXPECT_EQ(first.size(), 786'500u);
  EXPECT_LE(first.capacity(), 786'500u + 786'500u / 8 + 4096) << "at most an eighth more memory";
  const std::byte* at = first.data();
  pool.give(std::move(first));
  std::vector<std::byte> next = pool.take(786'540);  // a few header bytes more
  EXPECT_EQ(next.data(), at);
  EXPECT_EQ(next.size(), 786'540u);
}

TEST(BufferPool, CopyOfFillsAKeptBufferWithTheExactBytes) {
  BufferPool pool(64 << 20);
  std::vector<std::byte> kept = of_capacity(256 << 10);
  std::fill(kept.begin(), kept.end(), std::byte{0xee});  // stale bytes of an earlier message
  const std::byte* at = kept.data();
  pool.give(std::move(kept));
  std::vector<std::byte> source(200 << 10);
  for (std::size_t i = 0; i < source.size(); ++i) source[i] = static_cast<std::byte>(i * 7 + 3);
  std::vector<std::byte> copy = pool.copy_of(source);
  EXPECT_EQ(copy.data(), at);
  EXPECT_EQ(copy, source);
  EXPECT_EQ(pool.stats().taken, 1u);
  EXPECT_EQ(pool.stats().reused, 1u);
  EXPECT_EQ(pool.stats().kept_bytes, 0u);
  // Nothing kept holds 1 MiB: a new buffer sized as take()'s, the same bytes. Small copies are malloc's.
  std::vector<std::byte> big(1 << 20, std::byte{9});
  EXPECT_EQ(pool.copy_of(big), big);
  EXPECT_EQ(pool.stats().reused, 1u);
  EXPECT_EQ(pool.copy_of(std::span(source).first(100)).size(), 100u);
  EXPECT_EQ(pool.stats().taken, 2u);
}

TEST(BufferPool, TheReorderBufferReservesPayloadsFromItsPool) {
  BufferPool pool(64 << 20);
  std::vector<std::byte> kept = of_capacity(256 << 10);
  const std::byte* at = kept.data();
  pool.give(std::move(kept));
  ReorderBuffer inbox(pool);
  Message* slot = inbox.reserve(3, 7, 0, 200 << 10);
  EXPECT_EQ(slot->bytes.data(), at);
  EXPECT_EQ(slot->bytes.size(), 200u << 10);
  inbox.complete(3, 7, 0);
  EXPECT_EQ(inbox.pop()->bytes.size(), 200u << 10);
}

// Rank 0 sends rank 1 messages of one size, one at a time (rank 1 answers each after recycling it; rank 0
// waits for each send to complete, which gives its copy back), so every message after the first of a size
// finds the buffer of the one before, at both ends: exact bytes, and as many reuses as that allows. Sizes:
// eager and rendezvous on shared memory, then a smaller one that fits the largest kept buffer from its first
// message on (its bytes exact in a buffer that held a larger message).
TEST_P(FabricTest, HandledPayloadsAndSentCopiesServeTheNextMessagesWithExactBytes) {
  constexpr int kMessages = 20;
  constexpr Tag kData = 31, kAck = 32;
  const int me = fabric_->rank();
  if (me > 1) {
    fabric_->barrier();
    return;
  }
  const std::size_t sizes[] = {12 << 10, 300 << 10, 200 << 10};
  const std::uint64_t reuses[] = {kMessages - 1, kMessages - 1, kMessages};
  for (std::size_t round = 0; round < 3; ++round) {
    const std::uint64_t reused_before = fabric_->buffer_stats().reused;
    for (int i = 0; i < kMessages; ++i) {
      const std::uint64_t seq = round * 1000 + static_cast<std::uint64_t>(i);
      if (me == 0) {
        std::vector<std::byte> payload(sizes[round]);
        fill_pattern(payload, 0, 1, seq);
        fabric_->send(1, kData, payload);
        // send() copied the payload: clearing it now changes nothing sent.
        std::fill(payload.begin(), payload.end(), std::byte{0});
        fabric_->wait_all();
        auto ack = receive(*fabric_, 1);
        ASSERT_EQ(ack.size(), 1u);
      } else {
        auto got = receive(*fabric_, 1);
        ASSERT_EQ(got.size(), 1u);
        ASSERT_EQ(got[0].bytes.size(), sizes[round]);
        ASSERT_EQ(first_mismatch(got[0].bytes, 0, 1, seq), got[0].bytes.size()) << "message " << i;
        fabric_->recycle(std::move(got[0]));
        fabric_->send(0, kAck, {});
      }
    }
    // Rank 1's payloads (its acks are empty: no buffer), rank 0's copies of what it sent.
    EXPECT_EQ(fabric_->buffer_stats().reused - reused_before, reuses[round])
        << sizes[round] << " bytes, rank " << me;
  }
  fabric_->barrier();
}

// Many copies in flight at once: rank 0 sends a burst of messages of one size, each with its own bytes,
// clearing its buffer after each send, and only then waits for them all; later bursts take the copies the
// earlier ones gave back. A copy given back (and taken again) while its send was still reading it would show
// up as another message's bytes at rank 1. Eager and rendezvous sizes.
TEST_P(FabricTest, SentCopiesGoBackOnlyOnceTheirSendsComplete) {
  constexpr int kBurst = 8, kBursts = 3;
  constexpr Tag kData = 33, kAck = 34;
  const int me = fabric_->rank();
  if (me > 1) {
    fabric_->barrier();
    return;
  }
  for (const std::size_t size : {std::size_t{12} << 10, std::size_t{300} << 10}) {
    for (int burst = 0; burst < kBursts; ++burst) {
      const std::uint64_t first = size + static_cast<std::uint64_t>(burst) * kBurst;
      if (me == 0) {
        std::vector<std::byte> payload(size);
        for (int i = 0; i < kBurst; ++i) {
          fill_pattern(payload, 0, 1, first + static_cast<std::uint64_t>(i));
          fabric_->send(1, kData, payload);
          std::fill(payload.begin(), payload.end(), std::byte{0});
        }
        fabric_->wait_all();
        ASSERT_EQ(receive(*fabric_, 1).size(), 1u);
      } else {
        auto got = receive(*fabric_, kBurst);
        ASSERT_EQ(got.size(), static_cast<std::size_t>(kBurst));
        for (int i = 0; i < kBurst; ++i) {
          auto& message = got[static_cast<std::size_t>(i)];
          ASSERT_EQ(message.bytes.size(), size);
          ASSERT_EQ(first_mismatch(message.bytes, 0, 1, first + static_cast<std::uint64_t>(i)), size)
              << size << " bytes, burst " << burst << ", message " << i;
          fabric_->recycle(std::move(message));
        }
        fabric_->send(0, kAck, {});
      }
    }
  }
  if (me == 0) {
    EXPECT_GT(fabric_->buffer_stats().reused, 0u) << "no later burst reused an earlier copy";
  }
  fabric_->barrier();
}

}  // namespace
}  // namespace ferry::transport::testing
