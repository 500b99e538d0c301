// A deadline for the set-up's first collectives, the ones before the liveness thread runs
// (transport/liveness.hpp): the config agreement, MPI_Comm_dup, the layout's, the consumer communicator's
// split and the liveness thread's own address exchange. A rank that never reaches them (lost before, or its
// program stuck before it creates its Runtime) would leave the others blocked in MPI for ever; with the
// deadline each waiting rank prints one line naming the step and `runtime.setup_timeout_s`, and the job ends
// (MPI_Abort, with a timer behind it: docs/errors.md, "A lost rank").
#pragma once

#include <mpi.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace ferry::roles {

class SetupDeadline {
 public:
  // Starts the timer (0 seconds: none). `comm` is the caller's communicator: its rank names this rank, and
  // MPI_Abort ends its job.
  SetupDeadline(int seconds, MPI_Comm comm);
  ~SetupDeadline();  // stops the timer
  SetupDeadline(const SetupDeadline&) = delete;
  SetupDeadline& operator=(const SetupDeadline&) = delete;

  // The step this rank is in now (a string literal, named in the line).
  void step(const char* name) noexcept { step_.store(name); }

 private:
  void watch(int seconds);
  [[noreturn]] void expire(int seconds) const noexcept;

  MPI_Comm comm_;
  int rank_ = 0;
  std::atomic<const char*> step_{"the set-up"};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopped_ = false;
  std::thread thread_;
};

}  // namespace ferry::roles
