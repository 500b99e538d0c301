#include "transform/read_ahead.hpp"

#include <pthread.h>

#include <algorithm>
#include <utility>

#include "core/check.hpp"

namespace ferry::transform {

ReadAhead::ReadAhead(std::uint64_t budget, std::function<void()> ready)
    : budget_(budget), ready_(std::move(ready)) {
  FERRY_ENFORCE(budget_ > 0, "a read-ahead needs a budget of at least one byte");
  thread_ = std::thread([this] { reader_loop(); });
}

ReadAhead::~ReadAhead() {
  stop();
}

void ReadAhead::push(std::uint64_t bytes, ReadFn read) {
  {
    std::lock_guard lock(mutex_);
    FERRY_ENFORCE(!stopping_, "read pushed after the read-ahead stopped");
    queued_.push_back({bytes, std::move(read)});
  }
  cv_.notify_one();
}

std::optional<ReadAhead::Done> ReadAhead::pop() {
  std::lock_guard lock(mutex_);
  if (done_.empty()) return std::nullopt;
  Done done = std::move(done_.front());
  done_.pop_front();
  return done;
}

bool ReadAhead::wait_reading(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  const auto reading = [&] { return running_ != 0 || (!queued_.empty() && fits(queued_.front().bytes)); };
  ++waiting_;
  done_cv_.wait_until(lock, deadline, [&] { return !done_.empty() || stopping_ || !reading(); });
  --waiting_;
  return !done_.empty();
}

void ReadAhead::release(std::uint64_t bytes) {
  {
    std::lock_guard lock(mutex_);
    FERRY_ENFORCE(bytes <= held_, "read-ahead: ", bytes, " bytes released, ", held_, " held");
    held_ -= bytes;
  }
  cv_.notify_one();
}

void ReadAhead::stop() noexcept {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queued_.clear();  // their memory belongs to the caller, who is ending
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

std::uint64_t ReadAhead::held() const {
  std::lock_guard lock(mutex_);
  return held_;
}

std::uint64_t ReadAhead::peak() const {
  std::lock_guard lock(mutex_);
  return peak_;
}

std::uint64_t ReadAhead::largest() const {
  std::lock_guard lock(mutex_);
  return largest_;
}

std::chrono::steady_clock::duration ReadAhead::reading_for(std::chrono::steady_clock::time_point now) const {
  std::lock_guard lock(mutex_);
  return running_ ? now - reading_since_ : std::chrono::steady_clock::duration::zero();
}

void ReadAhead::reader_loop() {
  pthread_setname_np(pthread_self(), "ferry-reader");
  std::unique_lock lock(mutex_);
  for (;;) {
    // Woken by push(), release() and stop(): it waits for nothing else, so it needs no deadline of its own
    // (a read that hangs is the rank's liveness rule's, see reading_for()).
    cv_.wait(lock, [&] { return stopping_ || (!queued_.empty() && fits(queued_.front().bytes)); });
    if (stopping_) return;
    Pending next = std::move(queued_.front());
    queued_.pop_front();
    held_ += next.bytes;
    peak_ = std::max(peak_, held_);
    running_ = 1;
    reading_since_ = std::chrono::steady_clock::now();
    lock.unlock();
    Done done{next.bytes, nullptr};
    try {
      done.bytes += next.read();
    } catch (...) {
      done.error = std::current_exception();
    }
    lock.lock();
    held_ += done.bytes - next.bytes;
    peak_ = std::max(peak_, held_);
    largest_ = std::max(largest_, done.bytes);
    running_ = 0;
    // One wake per batch of completions: a taker that has not popped the earlier ones yet was woken for them
    // and pops this one too (a wake per read cost the progress thread a wait's return per list, measured);
    // none for a taker in wait_reading(), which sees it before it returns.
    const bool wake = done_.empty() && waiting_ == 0;
    done_.push_back(std::move(done));
    done_cv_.notify_all();
    if (!wake) continue;
    lock.unlock();
    ready_();
    lock.lock();
  }
}

}  // namespace ferry::transform
