#include "transport/wait_util.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/check.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry::transport {

bool wait_readable(int fd, std::chrono::microseconds timeout, int also) {
  pollfd entries[2]{};
  entries[0].fd = fd;
  entries[0].events = POLLIN;
  entries[1].fd = also;
  entries[1].events = POLLIN;
  const auto us = timeout.count() < 0 ? 0 : timeout.count();
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(us / 1000000);
  ts.tv_nsec = static_cast<long>((us % 1000000) * 1000);
  const int rc = ::ppoll(entries, also >= 0 ? 2 : 1, &ts, nullptr);
  if (rc < 0) {
    if (errno == EINTR) return false;
    throw TransportError(str_cat("ppoll on fd ", fd, " failed: ", std::strerror(errno)), errno);
  }
  return rc > 0;
}

Waker::Waker() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) throw TransportError(str_cat("eventfd failed: ", std::strerror(errno)), errno);
}

Waker::~Waker() {
  if (fd_ >= 0) ::close(fd_);
}

void Waker::wake() noexcept {
  const std::uint64_t one = 1;
  // Only fails when the counter would overflow (it is then readable anyway) or the fd is gone.
  [[maybe_unused]] const ssize_t n = ::write(fd_, &one, sizeof one);
}

bool Waker::consume() noexcept {
  std::uint64_t value = 0;
  return ::read(fd_, &value, sizeof value) == static_cast<ssize_t>(sizeof value) && value > 0;
}

std::chrono::microseconds remaining(Clock::time_point deadline, std::chrono::microseconds cap) {
  const auto now = Clock::now();
  if (now >= deadline) return std::chrono::microseconds::zero();
  const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - now);
  // Round a sub-microsecond remainder up so a caller does not spin on a zero sleep.
  const auto rounded = left.count() == 0 ? std::chrono::microseconds(1) : left;
  return rounded < cap ? rounded : cap;
}

void progress_barrier(MPI_Comm comm, const std::function<void()>& progress,
                      const std::function<void(std::chrono::microseconds)>& idle) {
  MPI_Request request = MPI_REQUEST_NULL;
  FERRY_CHECK_MPI(MPI_Ibarrier(comm, &request));
  Backoff backoff;
  for (;;) {
    progress();
    int done = 0;
    FERRY_CHECK_MPI(MPI_Test(&request, &done, MPI_STATUS_IGNORE));
    if (done) return;
    idle(backoff.next());
  }
}

}  // namespace ferry::transport
