// Fabric::wake(), the one call another thread may make. How much CPU an idle rank burns while it waits is a
// measurement, not a test: it is in perf/ (`ferry_bench idle`, figure 6 of perf/README.md).
#include <thread>

#include "harness.hpp"

namespace ferry::transport::testing {
namespace {

constexpr Tag kAfterWakeTag = 42;

// A wake from another thread, whether it comes before or during the wait, ends that wait with no message; it
// is used up by it, so the next wait returns the message a peer sends afterwards.
TEST_P(FabricTest, WakeFromAnotherThreadEndsOneWait) {
  std::thread other([&] { fabric_->wake(); });
  const auto woken = fabric_->wait(kForever);
  other.join();
  EXPECT_FALSE(woken.has_value());
  fabric_->barrier();
  const int me = fabric_->rank(), size = fabric_->size();
  const std::byte payload[] = {std::byte{7}};
  fabric_->send((me + 1) % size, kAfterWakeTag, payload);
  const auto message = fabric_->wait(kPeerTimeout);
  ASSERT_TRUE(message.has_value()) << "no message: the wake ended a second wait (or none came within "
                                   << kPeerTimeout.count() << " s)";
  EXPECT_EQ(message->source, (me + size - 1) % size);
  EXPECT_EQ(message->tag, kAfterWakeTag);
  fabric_->wait_all();
  fabric_->barrier();
}

}  // namespace
}  // namespace ferry::transport::testing
