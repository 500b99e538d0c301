// The transformation rank's read-ahead with a stand-in reader: order kept, the byte budget never exceeded
// (and a read larger than it run alone), a read's error handed to the taker, a clean stop with reads still
// queued. Reads block on gates the test opens; every wait is on a condition variable with a watchdog
// deadline, so no test depends on timing.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ferry/error.hpp"
#include "gate.hpp"
#include "transform/read_ahead.hpp"

namespace ferry::transform {
namespace {

constexpr auto kWatchdog = std::chrono::seconds(60);

// The ready callback: counts wakes, and takes completed reads, waiting for a wake while there is none.
class Wakes {
 public:
  std::function<void()> callback() {
    return [this] {
      std::lock_guard lock(mutex_);
      ++count_;
      cv_.notify_all();
    };
  }
  // The oldest completed read (a failure, and an empty Done, when none comes before the watchdog).
  ReadAhead::Done take(ReadAhead& ahead) {
    for (;;) {
      std::uint64_t seen = 0;
      {
        std::lock_guard lock(mutex_);
        seen = count_;
      }
      // A read completing after this pop finds nothing waiting to be taken, so it wakes.
      if (auto done = ahead.pop()) return std::move(*done);
      std::unique_lock lock(mutex_);
      if (!cv_.wait_for(lock, kWatchdog, [&] { return count_ > seen; })) {
        ADD_FAILURE() << "watchdog: no read completed";
        return {};
      }
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::uint64_t count_ = 0;
};

using test::Gate;

TEST(ReadAhead, ReadsCompleteInPushOrderWithinTheBudget) {
  Wakes done;
  ReadAhead ahead(100, done.callback());
  std::vector<int> order;  // written by the reader only
  std::atomic<std::uint64_t> most_held{0};
  const std::vector<std::uint64_t> sizes{30, 50, 20, 70, 10, 40, 60, 25, 35, 5};
  for (std::size_t i = 0; i < sizes.size(); ++i)
    ahead.push(sizes[i], [&, i]() -> std::uint64_t {
      order.push_back(static_cast<int>(i));
      most_held = std::max(most_held.load(), ahead.held());
      return 0;
    });
  // Take and release every read in order: the reader is then never stuck on the budget for long.
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    auto d = done.take(ahead);
    EXPECT_EQ(d.bytes, sizes[i]);
    EXPECT_FALSE(d.error);
    ahead.release(d.bytes);
  }
  EXPECT_FALSE(ahead.pop());
  std::vector<int> expected(sizes.size());
  for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = static_cast<int>(i);
  EXPECT_EQ(order, expected);
  EXPECT_LE(ahead.peak(), 100u);
  EXPECT_LE(most_held.load(), 100u);
  EXPECT_EQ(ahead.held(), 0u);
}

TEST(ReadAhead, AReadWaitsForRoomAndOneLargerThanTheBudgetRunsAlone) {
  Wakes done;
  ReadAhead ahead(8, done.callback());
  std::atomic<int> started{0};
  const auto read = [&]() -> std::uint64_t {
    ++started;
    return 0;
  };
  ahead.push(4, read);
  ahead.push(4, read);
  ahead.push(4, read);  // does not fit while the first two are held
  auto first = done.take(ahead);
  auto second = done.take(ahead);
  EXPECT_FALSE(ahead.pop());
  EXPECT_EQ(started.load(), 2);
  EXPECT_EQ(ahead.held(), 8u);
  ahead.release(first.bytes);
  auto third = done.take(ahead);
  ahead.release(second.bytes + third.bytes);

  // 20 bytes with a budget of 8: read alone, and nothing else starts until it is given back.
  ahead.push(20, read);
  ahead.push(1, read);
  auto large = done.take(ahead);
  EXPECT_EQ(large.bytes, 20u);
  EXPECT_EQ(started.load(), 4);
  EXPECT_EQ(ahead.peak(), 20u);  // the large read alone: never anything beside it
  ahead.release(large.bytes);
  auto small = done.take(ahead);
  ahead.release(small.bytes);
  EXPECT_EQ(ahead.held(), 0u);
}

TEST(ReadAhead, BytesFoundByAReadCountFromThenOn) {
  Wakes done;
  ReadAhead ahead(10, done.callback());
  ahead.push(2, [] { return std::uint64_t{6}; });  // variable-length samples: 6 more than announced
  ahead.push(3, [] { return std::uint64_t{0}; });  // 8 + 3 > 10: waits
  auto d = done.take(ahead);
  EXPECT_EQ(d.bytes, 8u);
  EXPECT_EQ(ahead.held(), 8u);
  EXPECT_FALSE(ahead.pop());
  ahead.release(d.bytes);
  auto next = done.take(ahead);
  ahead.release(next.bytes);
}

TEST(ReadAhead, AReadsErrorReachesTheTakerAndLaterReadsGoOn) {
  Wakes done;
  ReadAhead ahead(100, done.callback());
  ahead.push(1, []() -> std::uint64_t {
    throw DatasetError("data.h5: dataset /x: H5Dread failed", "data.h5", "/x");
  });
  ahead.push(1, [] { return std::uint64_t{0}; });
  auto failed = done.take(ahead);
  ASSERT_TRUE(failed.error);
  try {
    std::rethrow_exception(failed.error);
    FAIL() << "no exception";
  } catch (const DatasetError& e) {
    EXPECT_STREQ(e.what(), "data.h5: dataset /x: H5Dread failed");
    EXPECT_EQ(e.file(), "data.h5");
  }
  auto next = done.take(ahead);
  EXPECT_FALSE(next.error);
  ahead.release(failed.bytes + next.bytes);
}

TEST(ReadAhead, ATakerWaitsForTheRunningReadButNotForRoom) {
  Wakes done;
  Gate gate;
  ReadAhead ahead(4, done.callback());
  ahead.push(4, [&]() -> std::uint64_t {
    gate.pass();
    return 0;
  });
  gate.wait_waiting(1);
  std::thread opener([&] { gate.open(); });
  EXPECT_TRUE(ahead.wait_reading(std::chrono::steady_clock::now() + kWatchdog));  // the running read
  opener.join();
  auto first = ahead.pop();
  ASSERT_TRUE(first);
  // The next read needs the room the first holds: waiting for it would wait for ever, so it returns.
  ahead.push(4, [] { return std::uint64_t{0}; });
  EXPECT_FALSE(ahead.wait_reading(std::chrono::steady_clock::now() + kWatchdog));
  EXPECT_FALSE(ahead.pop());
  ahead.release(first->bytes);
  EXPECT_EQ(done.take(ahead).bytes, 4u);
}

TEST(ReadAhead, StopsWithAReadRunningAndOthersQueued) {
  Wakes done;
  Gate gate;
  std::atomic<int> started{0};
  auto ahead = std::make_unique<ReadAhead>(4, done.callback());
  ahead->push(4, [&]() -> std::uint64_t {
    ++started;
    gate.pass();
    return 0;
  });
  for (int i = 0; i < 5; ++i)
    ahead->push(4, [&]() -> std::uint64_t {  // none fits beside the first, which is never released
      ++started;
      return 0;
    });
  gate.wait_waiting(1);
  std::thread stopper([&] { ahead->stop(); });
  gate.open();
  stopper.join();  // returned: the running read ended and the thread is joined
  EXPECT_EQ(started.load(), 1);
  EXPECT_THROW(ahead->push(1, [] { return std::uint64_t{0}; }), Error);
  ahead.reset();  // a second stop (the destructor's) does nothing
}

TEST(ReadAhead, DestroyedWithReadsQueuedAndNoneTaken) {
  Wakes done;
  std::atomic<int> started{0};
  {
    ReadAhead ahead(1, done.callback());
    for (int i = 0; i < 8; ++i)
      ahead.push(1, [&]() -> std::uint64_t {
        ++started;
        return 0;
      });
    done.take(ahead);  // the first read completes and stays held
  }
  EXPECT_EQ(started.load(), 1);  // the first is held (never released): the rest never started
}

}  // namespace
}  // namespace ferry::transform
