// A gate that work running on another thread (a worker's job, a reader's read) waits at until the test opens
// it; the test can wait for a number of threads to have arrived. Shared by the threaded transform tests.
#pragma once

#include <condition_variable>
#include <mutex>

namespace ferry::transform::test {

class Gate {
 public:
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    cv_.notify_all();
  }
  void pass() {
    std::unique_lock lock(mutex_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
  }
  void wait_waiting(int n) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return waiting_ >= n; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
  int waiting_ = 0;
};

}  // namespace ferry::transform::test
