#include "roles/setup_deadline.hpp"

#include <chrono>
#include <cstdio>

#include "transport/comm.hpp"

namespace ferry::roles {

SetupDeadline::SetupDeadline(int seconds, MPI_Comm comm) : comm_(comm) {
  if (seconds <= 0) return;
  if (MPI_Comm_rank(comm, &rank_) != MPI_SUCCESS) rank_ = -1;  // the line says "rank -1"; the deadline holds
  thread_ = std::thread([this, seconds] { watch(seconds); });
}

SetupDeadline::~SetupDeadline() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void SetupDeadline::watch(int seconds) {
  std::unique_lock<std::mutex> lock(mutex_);
  const auto start = std::chrono::steady_clock::now();
  const auto stopped = [this] { return stopped_; };
  // Half-way, one warning: whoever watches the job sees what it waits for before it is ended.
  if (wake_.wait_until(lock, start + std::chrono::milliseconds(seconds * 500LL), stopped)) return;
  std::fprintf(
      stderr,
      "ferry: warning (rank %d): %s has not completed after %g s: a rank has not reached it yet; the "
      "job ends at %d s (runtime.setup_timeout_s)\n",
      rank_, step_.load(), seconds / 2.0, seconds);
  std::fflush(stderr);
  if (wake_.wait_until(lock, start + std::chrono::seconds(seconds), stopped)) return;
  expire(seconds);
}

void SetupDeadline::expire(int seconds) const noexcept {
  std::fprintf(
      stderr,
      "ferry: error (rank %d): %s did not complete within %d s (runtime.setup_timeout_s): a rank has "
      "not reached it (lost before it, or its program has not created its Runtime); ending the job\n",
      rank_, step_.load(), seconds);
  std::fflush(stderr);
  transport::abort_job(comm_);
}

}  // namespace ferry::roles
