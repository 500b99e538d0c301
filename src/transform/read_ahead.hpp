// A transformation rank's read-ahead: one reader thread that runs the rank's reads in the order they were
// pushed, ahead of the thread that prepares and sends them, within a byte budget. The progress thread pushes
// a read for every miss list as it arrives (the randomizer sends them up to runtime.prefetch batches ahead),
// takes the completed ones in the same order with pop(), and gives their bytes back with release() once the
// batch is sent. HDF5 here is not thread-safe (no H5_HAVE_THREADSAFE): every read of the rank's datasets runs
// on this one thread while it exists, so reads overlap prepare (workers) and sends (progress thread), never
// each other.
//
// Budget: a read is started only when the bytes held (reads started and not yet released) plus its own fit
// in the budget, or when nothing is held (a read larger than the budget runs alone). A read may add bytes it
// could not know before it ran (variable-length samples, ReadFn's result); they count from then on.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace ferry::transform {

class ReadAhead {
 public:
  // Runs on the reader thread; returns bytes it read beyond those it was pushed with (0 when it knew them).
  using ReadFn = std::function<std::uint64_t()>;
  // A completed read, in push order: its bytes (pushed + found) and its exception (null on success).
  struct Done {
    std::uint64_t bytes = 0;
    std::exception_ptr error;
  };

  // `budget`: bytes held at most (> 0). `ready` runs on the reader thread when a read completes, none was
  // waiting to be taken and no taker is in wait_reading() (it wakes the progress thread, which then pops
  // every completed read); it must not throw or call back into this object.
  ReadAhead(std::uint64_t budget, std::function<void()> ready);
  // stop().
  ~ReadAhead();
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  // Queues a read of `bytes`. Never blocks. Throws ferry::Error after stop().
  void push(std::uint64_t bytes, ReadFn read);
  // The oldest read not yet taken, when it has completed. Never blocks.
  std::optional<Done> pop();
  // For a taker with nothing else to do: waits until a read has completed, while one runs or can start now
  // (never for room in the budget, which only the taker can make), or until `deadline`. True when one has.
  // A wait here is a futex; the progress thread's wait for messages costs a transport arm and poll per wake.
  bool wait_reading(std::chrono::steady_clock::time_point deadline);
  // Gives back bytes of taken reads whose memory the caller no longer needs.
  void release(std::uint64_t bytes);
  // Drops the reads not started, waits for the running one to return (a read cannot be interrupted) and
  // joins the thread. Idempotent; from the thread that pushes.
  void stop() noexcept;

  std::uint64_t budget() const noexcept { return budget_; }
  // Bytes held now and at most so far (tests check peak() against the budget).
  std::uint64_t held() const;
  std::uint64_t peak() const;
  // The most bytes one read held. peak() <= max(budget(), largest()) holds when every read's size is known
  // before it starts (fixed-size fields); a variable-length read can take peak past it by its extra bytes.
  std::uint64_t largest() const;
  // How long the running read has lasted at `now`; zero when none runs (the rank's liveness rule).
  std::chrono::steady_clock::duration reading_for(std::chrono::steady_clock::time_point now) const;

 private:
  struct Pending {
    std::uint64_t bytes = 0;
    ReadFn read;
  };
  void reader_loop();
  bool fits(std::uint64_t bytes) const noexcept { return held_ == 0 || held_ + bytes <= budget_; }

  const std::uint64_t budget_;
  const std::function<void()> ready_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;       // reader: a read to start, room in the budget, or stop
  std::condition_variable done_cv_;  // wait_reading(): a read completed
  std::deque<Pending> queued_;       // pushed, not started
  std::deque<Done> done_;            // completed, not taken
  std::size_t running_ = 0;          // started, not completed (0 or 1)
  int waiting_ = 0;                  // takers in wait_reading()
  std::uint64_t held_ = 0, peak_ = 0, largest_ = 0;
  std::chrono::steady_clock::time_point reading_since_{};  // valid while running_
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ferry::transform
