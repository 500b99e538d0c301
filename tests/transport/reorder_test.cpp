// The receive-side reorder buffer on its own (no communication).
#include "transport/reorder.hpp"

#include "harness.hpp"

namespace ferry::transport::testing {
namespace {

TEST(ReorderBuffer, ReleasesEachStreamInSequenceOrder) {
  BufferPool pool;  // budget 0: every payload new
  ReorderBuffer buffer(pool);
  buffer.reserve(1, 5, 0, 4);  // a rendezvous message still landing
  Message* second = buffer.reserve(1, 5, 1, 1);
  second->bytes[0] = std::byte{2};
  buffer.complete(1, 5, 1);
  EXPECT_FALSE(buffer.has_ready()) << "message 1 overtook message 0";
  buffer.reserve(2, 5, 0, 0);  // another sender's stream is independent
  buffer.complete(2, 5, 0);
  ASSERT_TRUE(buffer.has_ready());
  EXPECT_EQ(buffer.pop()->source, 2);
  buffer.complete(1, 5, 0);
  const auto first = buffer.pop();
  const auto next = buffer.pop();
  ASSERT_TRUE(first && next);
  EXPECT_EQ(first->bytes.size(), 4u);
  EXPECT_EQ(next->bytes.at(0), std::byte{2});
  EXPECT_EQ(buffer.pending(), 0u);
  EXPECT_FALSE(buffer.pop());
}

}  // namespace
}  // namespace ferry::transport::testing
