// Stand-ins for the worker queue tests: a fake accelerator that completes a job only when the test says so,
// and a log of hand-offs in the order they happened.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "ferry/error.hpp"
#include "transform/worker_queue.hpp"

namespace ferry::transform::test {

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

inline DeviceJob device_job(const std::vector<std::byte>& in, std::vector<std::byte>& out) {
  DeviceJob job;
  job.input = in.data();
  job.input_bytes = in.size();
  job.output = out.data();
  job.output_bytes = out.size();
  job.samples = 1;
  return job;
}

}  // namespace ferry::transform::test
