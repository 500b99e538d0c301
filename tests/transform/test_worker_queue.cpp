// The transformation rank's worker queue: per-consumer order across CPU and accelerator jobs, backpressure,
// shutdown with work in flight, errors reported. The accelerator is a fake that completes only when the test
// says so, and every wait is on a condition variable: no test depends on timing.
#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "ferry/error.hpp"
#include "gate.hpp"
#include "transform/worker_queue.hpp"

namespace ferry::transform {
namespace {

// A device whose "kernel" writes input bytes + 1 to the output, when the test calls complete().
class FakeDevice final : public Device {
 public:
  Ticket stage(const DeviceJob& job) override {
    std::lock_guard lock(mutex_);
    if (fail_stage_) throw TransformError("fake: out of device memory");
    const Ticket t = next_++;
    jobs_[t] = Entry{job};
    return t;
  }
  void launch(Ticket t) override {
    std::lock_guard lock(mutex_);
    jobs_.at(t).launched = true;
    order_.push_back(t);
    cv_.notify_all();
  }
  bool poll(Ticket t) override {
    std::lock_guard lock(mutex_);
    const Entry& e = jobs_.at(t);
    if (e.failed) throw TransportError("fake: kernel failed", 719);
    return e.done;
  }
  void release(Ticket t) noexcept override {
    std::lock_guard lock(mutex_);
    jobs_.erase(t);
    ++released_;
    cv_.notify_all();
  }
  void wait(std::chrono::microseconds timeout) override {
    std::unique_lock lock(mutex_);
    const auto seen = completions_;
    cv_.wait_for(lock, timeout, [&] { return completions_ != seen; });
  }

  // Test side.
  void fail_stage(bool on) {
    std::lock_guard lock(mutex_);
    fail_stage_ = on;
  }
  // Blocks until n jobs have been launched in total; returns their tickets in launch order.
  std::vector<Ticket> wait_launched(std::size_t n) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return order_.size() >= n; });
    return order_;
  }
  void complete(Ticket t, bool fail = false) {
    std::lock_guard lock(mutex_);
    Entry& e = jobs_.at(t);
    if (fail) {
      e.failed = true;
    } else {
      for (std::size_t i = 0; i < e.job.input_bytes && i < e.job.output_bytes; ++i) {
        e.job.output[i] = static_cast<std::byte>(std::to_integer<int>(e.job.input[i]) + 1);
      }
      e.done = true;
    }
    ++completions_;
    cv_.notify_all();
  }
  std::size_t released() {
    std::lock_guard lock(mutex_);
    return released_;
  }

 private:
  struct Entry {
    DeviceJob job;
    bool launched = false;
    bool done = false;
    bool failed = false;
  };
  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<Ticket, Entry> jobs_;
  std::vector<Ticket> order_;
  Ticket next_ = 1;
  std::uint64_t completions_ = 0;
  std::size_t released_ = 0;
  bool fail_stage_ = false;
};

// Records hand-offs: (consumer, tag, error text) in the order they happened.
class Log {
 public:
  WorkerQueue::Handoff handoff(std::uint32_t consumer, int tag) {
    return [this, consumer, tag](std::exception_ptr error) {
      std::string text;
      if (error) {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          text = e.what();
        } catch (...) {
          text = "non-standard exception";
        }
      }
      std::lock_guard lock(mutex_);
      by_consumer_[consumer].push_back(tag);
      errors_[tag] = text;
      ++count_;
      cv_.notify_all();
    };
  }
  void wait_count(std::size_t n) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return count_ >= n; });
  }
  std::vector<int> of(std::uint32_t consumer) {
    std::lock_guard lock(mutex_);
    return by_consumer_[consumer];
  }
  std::string error(int tag) {
    std::lock_guard lock(mutex_);
    return errors_.at(tag);
  }
  std::size_t count() {
    std::lock_guard lock(mutex_);
    return count_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::uint32_t, std::vector<int>> by_consumer_;
  std::map<int, std::string> errors_;
  std::size_t count_ = 0;
};

using test::Gate;

DeviceJob device_job(const std::vector<std::byte>& in, std::vector<std::byte>& out) {
  DeviceJob job;
  job.input = in.data();
  job.input_bytes = in.size();
  job.output = out.data();
  job.output_bytes = out.size();
  job.samples = 1;
  return job;
}

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

TEST(WorkerQueue, HostDispatchWorkersFollowsKokkosHostSpace) {
  // Serial (Debian's Kokkos 3.4): every worker dispatches its own host kernels; other host spaces: one.
  const bool serial_host = std::is_same_v<Kokkos::DefaultHostExecutionSpace, Kokkos::Serial>;
  EXPECT_EQ(host_dispatch_workers(4), serial_host ? 4u : 1u);
  EXPECT_EQ(host_dispatch_workers(0), 1u);
}

}  // namespace
}  // namespace ferry::transform
