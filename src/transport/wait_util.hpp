// Blocking without spinning. Up to 8 ranks share 2 cores, so a rank with nothing to do must sleep: on the
// UCX worker's event fd where there is one, otherwise in short, growing sleeps between non-blocking checks
// (Open MPI's own blocking calls busy-poll, so they are never used to wait).
#pragma once

#include <mpi.h>

#include <chrono>
#include <functional>

namespace ferry::transport {

using Clock = std::chrono::steady_clock;

// Sleep lengths for a poll loop: first, then doubling up to max; reset() after any progress.
class Backoff {
 public:
  static constexpr std::chrono::microseconds kFirst{50};
  static constexpr std::chrono::microseconds kMax{2000};

  std::chrono::microseconds next() noexcept {
    const auto current = current_;
    current_ = current_ * 2 > kMax ? kMax : current_ * 2;
    return current;
  }
  void reset() noexcept { current_ = kFirst; }

 private:
  std::chrono::microseconds current_ = kFirst;
};

// Sleeps until fd is readable or timeout passes (microsecond resolution, via ppoll). True when readable.
// An interrupted sleep returns false; callers re-check their condition in a loop anyway.
bool wait_readable(int fd, std::chrono::microseconds timeout, int also = -1);

// Lets another thread cut a rank's wait short (Fabric::wake): an eventfd that the waits watch next to the
// transport's own fd (UCX) or sleep on between checks (MPI). wake() is async-signal- and thread-safe.
class Waker {
 public:
  Waker();  // throws TransportError when no eventfd can be made
  ~Waker();
  Waker(const Waker&) = delete;
  Waker& operator=(const Waker&) = delete;
  void wake() noexcept;
  // True once per wake-up (reading the eventfd resets it).
  bool consume() noexcept;
  int fd() const noexcept { return fd_; }

 private:
  int fd_ = -1;
};

// Time left until deadline, never negative, at most cap.
std::chrono::microseconds remaining(Clock::time_point deadline, std::chrono::microseconds cap);

// Collective barrier over comm that keeps calling progress() while it waits and idle(sleep) between
// checks; idle may return early when there is work. Uses MPI_Ibarrier + MPI_Test.
void progress_barrier(MPI_Comm comm, const std::function<void()>& progress,
                      const std::function<void(std::chrono::microseconds)>& idle);

}  // namespace ferry::transport
