// gtest main for multi-rank tests. Every rank runs every test in the same order. Rank 0 prints gtest's
// usual output; other ranks print only their failures, prefixed with the rank. The exit code is the same on
// all ranks (any failure anywhere fails the run), and a watchdog ends a hung test with a message: a rank
// that exits without MPI_Finalize makes mpiexec tear the whole job down.
#include <gtest/gtest.h>
#include <mpi.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include "core/log.hpp"

namespace {

constexpr auto kTestTimeLimit = std::chrono::seconds(90);

class RankFailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (!result.failed()) return;
    std::fprintf(stderr, "[rank %d] %s:%d: failure\n%s\n", rank_,
                 result.file_name() ? result.file_name() : "?", result.line_number(), result.message());
  }
  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (info.result()->Failed()) {
      std::fprintf(stderr, "[rank %d] FAILED %s.%s\n", rank_, info.test_suite_name(), info.name());
    }
  }

 private:
  int rank_;
};

// Aborts the process when one test runs past kTestTimeLimit: a hang becomes a failure that names the test.
class Watchdog : public ::testing::EmptyTestEventListener {
 public:
  explicit Watchdog(int rank) : rank_(rank), thread_([this] { run(); }) {}
  ~Watchdog() override { stop(); }

  void OnTestStart(const ::testing::TestInfo& info) override {
    std::lock_guard lock(mutex_);
    name_ = std::string(info.test_suite_name()) + "." + info.name();
    deadline_ = std::chrono::steady_clock::now() + kTestTimeLimit;
    armed_ = true;
    changed_.notify_all();
  }
  void OnTestEnd(const ::testing::TestInfo&) override {
    std::lock_guard lock(mutex_);
    armed_ = false;
  }
  void OnTestProgramEnd(const ::testing::UnitTest&) override { stop(); }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      if (!armed_) {
        changed_.wait(lock);
        continue;
      }
      if (changed_.wait_until(lock, deadline_) == std::cv_status::timeout && armed_ && !stopping_ &&
          std::chrono::steady_clock::now() >= deadline_) {
        std::fprintf(stderr, "[rank %d] watchdog: %s ran past %lld s; aborting the job\n", rank_,
                     name_.c_str(), static_cast<long long>(kTestTimeLimit.count()));
        std::fflush(stderr);
        std::_Exit(3);
      }
    }
  }
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      changed_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
  }

  int rank_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string name_;
  std::chrono::steady_clock::time_point deadline_{};
  bool armed_ = false;
  bool stopping_ = false;
  std::thread thread_;  // last: starts after the state above is built
};

}  // namespace

int main(int argc, char** argv) {
  // One thread per rank communicates; FUNNELED is what Ferry asks for (the watchdog makes no MPI call).
  int provided = 0;
  if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) return 2;
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  ferry::log::init(rank, "warn");
  ::testing::InitGoogleTest(&argc, argv);
  auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
  if (rank != 0) {
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new RankFailurePrinter(rank));
  }
  listeners.Append(new Watchdog(rank));
  const int failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  int any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0 && any_failed && !failed) std::fprintf(stderr, "[rank 0] a test failed on another rank\n");
  MPI_Finalize();
  return any_failed;
}
