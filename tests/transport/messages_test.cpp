// Two-sided messages over every backend: exact bytes across the eager/rendezvous range, and the ordering
// guarantee (per sender and tag, send order) under a mix of small and large messages.
#include <cstring>

#include "harness.hpp"

namespace ferry::transport::testing {
namespace {

TEST_P(FabricTest, AllToAllMessagesArriveWithExactBytes) {
  const std::vector<std::size_t> sizes = {0, 1, 100, 8 * 1024, 1 << 20, 4 << 20};
  constexpr Tag kTag = 11;
  const int me = fabric_->rank();
  const int ranks = fabric_->size();

  // The two large sizes go through send_nb (zero-copy), the rest through send (copied); their buffers live
  // until wait_all.
  std::vector<std::vector<std::byte>> in_flight;
  for (int dst = 0; dst < ranks; ++dst) {
    for (std::size_t seq = 0; seq < sizes.size(); ++seq) {
      std::vector<std::byte> payload(sizes[seq]);
      fill_pattern(payload, me, dst, seq);
      if (sizes[seq] >= (1u << 20)) {
        fabric_->send_nb(dst, kTag, payload);
        in_flight.push_back(std::move(payload));  // moving a vector keeps its buffer where it is
      } else {
        fabric_->send(dst, kTag, payload);
      }
    }
  }

  const auto messages = receive(*fabric_, static_cast<std::size_t>(ranks) * sizes.size());
  std::vector<std::size_t> next(static_cast<std::size_t>(ranks), 0);
  for (const Message& message : messages) {
    ASSERT_EQ(message.tag, kTag);
    ASSERT_GE(message.source, 0);
    ASSERT_LT(message.source, ranks);
    const std::size_t seq = next[static_cast<std::size_t>(message.source)]++;
    ASSERT_LT(seq, sizes.size()) << "extra message from rank " << message.source;
    ASSERT_EQ(message.bytes.size(), sizes[seq]) << "message " << seq << " from rank " << message.source;
    const std::size_t bad = first_mismatch(message.bytes, message.source, me, seq);
    ASSERT_EQ(bad, message.bytes.size()) << "message " << seq << " (" << sizes[seq] << " bytes) from rank "
                                         << message.source << " differs at byte " << bad;
  }
  fabric_->wait_all();
}

TEST_P(FabricTest, MessagesKeepSendOrderPerSenderAndTag) {
  constexpr std::uint64_t kMessages = 1000;
  constexpr std::size_t kLarge = 256 * 1024;  // above every rendezvous threshold here
  const Tag tags[] = {21, 22};
  const int me = fabric_->rank();
  const int ranks = fabric_->size();

  // Every 50th message is large, so eager messages sent after it can overtake it on the wire.
  const auto size_of = [&](std::uint64_t i) { return i % 50 == 17 ? kLarge : 8 + (i % 7) * 13; };
  std::vector<std::byte> payload;
  for (std::uint64_t i = 0; i < kMessages; ++i) {
    for (int dst = 0; dst < ranks; ++dst) {
      for (const Tag tag : tags) {
        payload.resize(size_of(i));
        fill_pattern(payload, me, dst, i * 100 + tag);
        std::memcpy(payload.data(), &i, sizeof i);
        fabric_->send(dst, tag, payload);
      }
    }
    if (i % 64 == 0) fabric_->progress();
  }

  const auto messages = receive(*fabric_, static_cast<std::size_t>(ranks) * kMessages * 2);
  std::map<std::pair<int, Tag>, std::uint64_t> expected;
  for (const Message& message : messages) {
    std::uint64_t& next = expected[{message.source, message.tag}];
    ASSERT_GE(message.bytes.size(), sizeof next);
    std::uint64_t index = 0;
    std::memcpy(&index, message.bytes.data(), sizeof index);
    ASSERT_EQ(index, next) << "from rank " << message.source << " tag " << message.tag;
    ASSERT_EQ(message.bytes.size(), size_of(index));
    const auto body = std::span<const std::byte>(message.bytes).subspan(sizeof index);
    ASSERT_EQ(first_mismatch(body, message.source, me, index * 100 + message.tag, sizeof index), body.size())
        << "message " << index << " from rank " << message.source << " tag " << message.tag;
    ++next;
  }
  EXPECT_EQ(expected.size(), static_cast<std::size_t>(ranks) * 2);
  fabric_->wait_all();
}

}  // namespace
}  // namespace ferry::transport::testing
