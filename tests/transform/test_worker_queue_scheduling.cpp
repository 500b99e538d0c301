// The transformation rank's worker queue, scheduling: per-consumer order across CPU and accelerator jobs,
// backpressure, shutdown waiting for work in flight, and how many workers dispatch host kernels. Every wait
// is on a condition variable: no test depends on timing.
#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "ferry/error.hpp"
#include "gate.hpp"
#include "transform/worker_queue.hpp"
#include "worker_queue_fakes.hpp"

namespace ferry::transform::test {
namespace {

TEST(WorkerQueue, CpuJobsKeepOrderPerConsumer) {
  Log log;
  std::vector<int> ran(200, 0);
  {
    WorkerQueue q({.workers = 3, .capacity = 8});
    for (int i = 0; i < 200; ++i) {
      q.submit(static_cast<std::uint32_t>(i % 4), WorkerQueue::CpuWork([&ran, i](std::size_t worker) {
                 ASSERT_LT(worker, 3u);
                 ran[i] = 1;
               }),
               log.handoff(static_cast<std::uint32_t>(i % 4), i));
    }
    q.drain();
    EXPECT_EQ(q.outstanding(), 0u);
  }
  EXPECT_EQ(log.count(), 200u);
  for (std::uint32_t c = 0; c < 4; ++c) {
    const auto got = log.of(c);
    ASSERT_EQ(got.size(), 50u);
    for (std::size_t k = 0; k < got.size(); ++k) EXPECT_EQ(got[k], static_cast<int>(4 * k + c));
  }
  for (int r : ran) EXPECT_EQ(r, 1);
}

TEST(WorkerQueue, MixedJobsHandedOffInSubmissionOrder) {
  FakeDevice device;
  Log log;
  std::mutex m;
  std::condition_variable cv;
  int cpu_ran = 0;
  auto cpu = [&](std::size_t) {
    std::lock_guard lock(m);
    ++cpu_ran;
    cv.notify_all();
  };
  std::vector<std::byte> in1(4, std::byte{1}), out1(4), in3(4, std::byte{3}), out3(4);
  WorkerQueue q({.workers = 2, .capacity = 16}, &device);
  // consumer 0: cpu(0) dev(1) cpu(2) dev(3) cpu(4)
  q.submit(0, WorkerQueue::CpuWork(cpu), log.handoff(0, 0));
  q.submit(0, device_job(in1, out1), log.handoff(0, 1));
  q.submit(0, WorkerQueue::CpuWork(cpu), log.handoff(0, 2));
  q.submit(0, device_job(in3, out3), log.handoff(0, 3));
  q.submit(0, WorkerQueue::CpuWork(cpu), log.handoff(0, 4));
  const auto tickets = device.wait_launched(2);
  {
    // The CPU jobs behind the device jobs ran meanwhile: the workers were not held by the device.
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return cpu_ran == 3; });
  }
  log.wait_count(1);  // only job 0 can be handed off: job 1 is still on the device
  EXPECT_EQ(log.of(0), (std::vector<int>{0}));
  EXPECT_LE(q.on_device(), 2u);  // the worker counts a launch just after the device saw it
  device.complete(tickets[1]);   // the later device job finishes first
  device.complete(tickets[0]);
  log.wait_count(5);
  EXPECT_EQ(log.of(0), (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(out1, std::vector<std::byte>(4, std::byte{2}));
  EXPECT_EQ(out3, std::vector<std::byte>(4, std::byte{4}));
  q.drain();
  EXPECT_EQ(q.on_device(), 0u);
  EXPECT_EQ(device.released(), 2u);
}

TEST(WorkerQueue, PendingDeviceJobDoesNotHoldOtherConsumers) {
  FakeDevice device;
  Log log;
  std::vector<std::byte> in(8, std::byte{7}), out(8);
  WorkerQueue q({.workers = 1, .capacity = 8}, &device);
  q.submit(0, device_job(in, out), log.handoff(0, 0));
  q.submit(0, WorkerQueue::CpuWork([](std::size_t) {}), log.handoff(0, 1));
  q.submit(1, WorkerQueue::CpuWork([](std::size_t) {}), log.handoff(1, 2));
  const auto tickets = device.wait_launched(1);
  log.wait_count(1);
  EXPECT_EQ(log.of(1), (std::vector<int>{2}));
  EXPECT_TRUE(log.of(0).empty());
  device.complete(tickets[0]);
  log.wait_count(3);
  EXPECT_EQ(log.of(0), (std::vector<int>{0, 1}));
}

TEST(WorkerQueue, FullQueueBlocksSubmitterUntilAHandoff) {
  Gate gate;
  Log log;
  WorkerQueue q({.workers = 1, .capacity = 2});
  q.submit(0, WorkerQueue::CpuWork([&](std::size_t) { gate.pass(); }), log.handoff(0, 0));
  q.submit(0, WorkerQueue::CpuWork([](std::size_t) {}), log.handoff(0, 1));
  gate.wait_waiting(1);
  WorkerQueue::Work extra = WorkerQueue::CpuWork([](std::size_t) {});
  WorkerQueue::Handoff extra_done = log.handoff(0, 2);
  EXPECT_FALSE(q.try_submit(0, extra, extra_done));  // full: refused, and the job is left with the caller
  EXPECT_TRUE(std::holds_alternative<WorkerQueue::CpuWork>(extra));
  EXPECT_EQ(q.outstanding(), 2u);

  std::mutex m;
  std::condition_variable cv;
  bool submitted = false;
  std::thread submitter([&] {
    q.submit(0, WorkerQueue::CpuWork([](std::size_t) {}), log.handoff(0, 3));  // blocks: no room
    std::lock_guard lock(m);
    submitted = true;
    cv.notify_all();
  });
  {
    // Still blocked while the gate is shut: nothing can have been handed off yet.
    std::lock_guard lock(m);
    EXPECT_FALSE(submitted);
    EXPECT_EQ(log.count(), 0u);
  }
  gate.open();
  {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return submitted; });
  }
  submitter.join();
  q.drain();
  EXPECT_EQ(log.of(0), (std::vector<int>{0, 1, 3}));
  EXPECT_LE(q.outstanding(), q.capacity());
}

TEST(WorkerQueue, ShutdownWaitsForJobsOnTheDevice) {
  FakeDevice device;
  Log log;
  std::vector<std::byte> in(4, std::byte{9}), out_a(4), out_b(4);
  auto q = std::make_unique<WorkerQueue>(WorkerQueueOptions{.workers = 2, .capacity = 8}, &device);
  q->submit(0, device_job(in, out_a), log.handoff(0, 0));
  q->submit(1, device_job(in, out_b), log.handoff(1, 1));
  q->submit(0, WorkerQueue::CpuWork([](std::size_t) {}), log.handoff(0, 2));
  const auto tickets = device.wait_launched(2);

  std::mutex m;
  std::condition_variable cv;
  bool stopped = false;
  std::thread stopper([&] {
    q->shutdown();
    std::lock_guard lock(m);
    stopped = true;
    cv.notify_all();
  });
  {
    std::lock_guard lock(m);
    EXPECT_FALSE(stopped);  // two jobs are still on the device
  }
  device.complete(tickets[0]);
  device.complete(tickets[1]);
  {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return stopped; });
  }
  stopper.join();
  EXPECT_EQ(log.count(), 3u);  // each handed off exactly once
  EXPECT_EQ(log.of(0), (std::vector<int>{0, 2}));
  EXPECT_EQ(log.of(1), (std::vector<int>{1}));
  EXPECT_EQ(out_a, std::vector<std::byte>(4, std::byte{10}));
  EXPECT_EQ(device.released(), 2u);
  EXPECT_THROW(q->submit(0, WorkerQueue::CpuWork([](std::size_t) {}), log.handoff(0, 9)), Error);
  q.reset();  // the destructor after shutdown() does nothing more
  EXPECT_EQ(log.count(), 3u);
}

TEST(WorkerQueue, HostDispatchWorkersFollowsKokkosHostSpace) {
  // Serial (Debian's Kokkos 3.4): every worker dispatches its own host kernels; other host spaces: one.
  const bool serial_host = std::is_same_v<Kokkos::DefaultHostExecutionSpace, Kokkos::Serial>;
  EXPECT_EQ(host_dispatch_workers(4), serial_host ? 4u : 1u);
  EXPECT_EQ(host_dispatch_workers(0), 1u);
}

}  // namespace
}  // namespace ferry::transform::test
