// The transformation rank's worker queue, errors: a cancelled shutdown, a throwing CPU job, a failing device
// job or hand-off, and a device job with no accelerator each reach the right hand-off; kept device jobs are
// released once. The accelerator is a fake that completes only when the test says so.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ferry/error.hpp"
#include "gate.hpp"
#include "transform/worker_queue.hpp"
#include "worker_queue_fakes.hpp"

namespace ferry::transform::test {
namespace {

TEST(WorkerQueue, CancelHandsQueuedJobsOffWithAnError) {
  Gate gate;
  Log log;
  WorkerQueue q({.workers = 1, .capacity = 8});
  q.submit(0, WorkerQueue::CpuWork([&](std::size_t) { gate.pass(); }), log.handoff(0, 0));
  for (int i = 1; i <= 3; ++i) q.submit(0, WorkerQueue::CpuWork([](std::size_t) {}), log.handoff(0, i));
  gate.wait_waiting(1);
  EXPECT_EQ(q.queue_length(), 3u);
  std::thread stopper([&] { q.shutdown(WorkerQueue::Stop::cancel); });
  // Open the gate only once shutdown has taken the queued jobs (a condition, not a delay).
  while (q.queue_length() != 0) std::this_thread::yield();
  gate.open();
  stopper.join();
  EXPECT_EQ(log.of(0), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(log.error(0), "");
  for (int i = 1; i <= 3; ++i) EXPECT_NE(log.error(i).find("shut down"), std::string::npos) << log.error(i);
}

TEST(WorkerQueue, ExceptionInCpuJobReachesItsHandoff) {
  Log log;
  WorkerQueue q({.workers = 2, .capacity = 4});
  q.submit(0, WorkerQueue::CpuWork([](std::size_t) { throw TransformError("op cast failed on sample 3"); }),
           log.handoff(0, 0));
  q.submit(0, WorkerQueue::CpuWork([](std::size_t) { throw 42; }), log.handoff(0, 1));
  q.submit(0, WorkerQueue::CpuWork([](std::size_t) {}), log.handoff(0, 2));
  q.drain();
  EXPECT_EQ(log.of(0), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(log.error(0), "op cast failed on sample 3");
  EXPECT_EQ(log.error(1), "non-standard exception");  // not lost either
  EXPECT_EQ(log.error(2), "");                        // later jobs still run
}

TEST(WorkerQueue, DeviceFailuresReachTheirHandoffs) {
  FakeDevice device;
  Log log;
  std::vector<std::byte> in(4), out(4);
  WorkerQueue q({.workers = 1, .capacity = 4}, &device);
  q.submit(0, device_job(in, out), log.handoff(0, 0));  // fails in the kernel
  const auto tickets = device.wait_launched(1);
  device.complete(tickets[0], /*fail=*/true);
  log.wait_count(1);
  device.fail_stage(true);
  q.submit(0, device_job(in, out), log.handoff(0, 1));  // fails to stage
  q.drain();
  EXPECT_EQ(log.error(0), "fake: kernel failed");
  EXPECT_EQ(log.error(1), "fake: out of device memory");
  EXPECT_EQ(device.released(), 1u);  // the staged one was released, the refused one never existed
}

// A kept job (device-resident batches) is handed off without being released: its ticket comes back in
// DeviceJob::keep, its result stays readable, and release_kept() releases it once. A kept job that fails
// is released as any failed job.
TEST(WorkerQueue, KeptDeviceJobsStayOnTheDeviceUntilReleased) {
  FakeDevice device;
  Log log;
  std::vector<std::byte> in(4), out(4);
  std::uint64_t kept = 0, failed = 0;
  WorkerQueue q({.workers = 1, .capacity = 4}, &device);
  DeviceJob job = device_job(in, out);
  job.keep = &kept;
  q.submit(0, job, log.handoff(0, 0));
  device.complete(device.wait_launched(1)[0]);
  job.keep = &failed;
  q.submit(0, job, log.handoff(0, 1));
  device.complete(device.wait_launched(2)[1], /*fail=*/true);
  q.drain();
  EXPECT_EQ(log.error(0), "");
  EXPECT_NE(kept, 0u);
  EXPECT_EQ(failed, 0u) << "a failed job has no result to keep";
  EXPECT_EQ(device.released(), 1u) << "only the failed job was released";
  q.release_kept(kept);
  EXPECT_EQ(device.released(), 2u);
}

TEST(WorkerQueue, DeviceJobWithoutAcceleratorFails) {
  Log log;
  std::vector<std::byte> in(4), out(4);
  WorkerQueue q({.workers = 1, .capacity = 4});
  q.submit(3, device_job(in, out), log.handoff(3, 0));
  q.drain();
  EXPECT_NE(log.error(0).find("without an accelerator"), std::string::npos) << log.error(0);
}

TEST(WorkerQueue, ThrowingHandoffIsKeptForDrain) {
  Log log;
  WorkerQueue q({.workers = 1, .capacity = 4});
  q.submit(0, WorkerQueue::CpuWork([](std::size_t) {}),
           [](std::exception_ptr) { throw std::runtime_error("send failed"); });
  q.submit(0, WorkerQueue::CpuWork([](std::size_t) {}), log.handoff(0, 1));
  try {
    q.drain();
    FAIL() << "drain() should rethrow the hand-off's exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "send failed");
  }
  EXPECT_EQ(log.of(0), (std::vector<int>{1}));  // the next job was still handed off
  q.drain();                                    // reported once
}

}  // namespace
}  // namespace ferry::transform::test
