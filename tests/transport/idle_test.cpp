// An idle rank must block, not spin: up to 8 ranks share 2 cores. Every rank but the last waits for a
// message while the last one sleeps; each waiter measures its own process CPU time (all threads: UCX's and
// Open MPI's helpers count against it) over the wait.
#include <sys/resource.h>

#include <cstdio>
#include <thread>

#include "harness.hpp"

namespace ferry::transport::testing {
namespace {

constexpr Tag kWakeTag = 41;
constexpr auto kIdle = std::chrono::milliseconds(1500);
constexpr double kMaxCpuPercent = 5.0;

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

TEST_P(FabricTest, IdleWaitUsesUnderFivePercentOfACore) {
  const int me = fabric_->rank();
  const int waker = fabric_->size() - 1;
  fabric_->barrier();
  if (me == waker) {
    std::this_thread::sleep_for(kIdle);
    const std::byte wake[] = {std::byte{1}};
    for (int dst = 0; dst < fabric_->size(); ++dst) {
      if (dst != me) fabric_->send(dst, kWakeTag, wake);
    }
    fabric_->wait_all();
    return;
  }

  const double cpu_before = cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  std::optional<Message> message;
  // Short timeouts on purpose: the loop a role runs between other duties must not spin either.
  while (!message && std::chrono::steady_clock::now() - start < kPeerTimeout) {
    message = fabric_->wait(std::chrono::milliseconds(100));
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = cpu_seconds() - cpu_before;
  ASSERT_TRUE(message.has_value()) << "no wake-up message within " << kPeerTimeout.count() << " s";
  EXPECT_EQ(message->source, waker);
  EXPECT_EQ(message->tag, kWakeTag);
  const double percent = 100.0 * cpu / wall;
  std::printf("[rank %d] %s idle wait: %.2f%% of a core (%.1f ms CPU over %.2f s)\n", me, GetParam().c_str(),
              percent, cpu * 1e3, wall);
  std::fflush(stdout);
  RecordProperty("idle_cpu_percent", std::to_string(percent));
  EXPECT_GE(wall, 1.0) << "the wait ended before the waker slept";
  EXPECT_LT(percent, kMaxCpuPercent);
}

// Fabric::wake() from another thread ends a long wait at once, with no message, and only that one wait.
TEST_P(FabricTest, WakeFromAnotherThreadEndsAWaitEarly) {
  const auto start = std::chrono::steady_clock::now();
  std::thread other([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    fabric_->wake();
  });
  const auto message = fabric_->wait(std::chrono::seconds(20));
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  other.join();
  EXPECT_FALSE(message.has_value());
  EXPECT_GE(waited, 0.04) << "the wait returned before the wake";
  EXPECT_LT(waited, 5.0) << "the wake did not end the wait";
  // Consumed: the next wait runs its full (short) timeout.
  const auto again = std::chrono::steady_clock::now();
  EXPECT_FALSE(fabric_->wait(std::chrono::milliseconds(100)).has_value());
  EXPECT_GE(std::chrono::duration<double>(std::chrono::steady_clock::now() - again).count(), 0.09);
  fabric_->barrier();
}

}  // namespace
}  // namespace ferry::transport::testing
