// The runtime's accelerator paths end to end on machines without a GPU: every rank gets a host stand-in for
// its device (tests/common/host_accelerator.hpp: the CUDA device's step sequencer with Kokkos host launchers,
// the same functors), so what runs is Ferry's own device logic (the job list routing prepare batches to the
// transformation rank's device through its worker queue and augment batches to each consumer's, DeviceArgs
// keys, the CPU fallback after a failed job, utilization reports reaching the policy). CUDA itself runs only
// where a GPU is lent (tests/transform: Accelerator.*).
// 5 ranks: 1 randomizer, 1 cache server, 1 transformer, 2 consumers; both transports.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "common/host_accelerator.hpp"
#include "harness.hpp"
#include "monitor/policy.hpp"

namespace ferry::test {
namespace {

using transform::test::HostAccelerator;
using transform::test::HostDeviceCounters;

class DevicePaths : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (world_size() != 5) GTEST_SKIP() << "written for 5 ranks (1 randomizer, 2 service ranks, 2 consumers)";
  }
  void TearDown() override { transform::set_accelerator_factory_for_tests({}); }

  // Half of the 480 samples fit the cache, so every epoch has misses for the transformer. The static policy
  // places work from the first batch (placement_before_jobs).
  Config config(double share) const { return device_job_config(GetParam(), share); }

  // Ranks start with every batch on their CPUs; the first job list moves half of each stage to the devices.
  // Windows close by counts only (every 4 batches; the coordinator's once every consumer has reported), so
  // the list comes after the same batches on any machine, early in the job.
  Config moved_by_the_first_job_list() const {
    Config c = config(0.0);
    c.monitor.policy = kHalfAfterFirstWindow;
    c.monitor.window_ms = 0;
    return c;
  }

  // A scripted placement policy: the static policy at share 0.5 under another name, so that ranks route by
  // placement_before_jobs() (all on the CPU) until its first job list reaches them.
  static constexpr const char* kHalfAfterFirstWindow = "test_half_after_first_window";
  static void SetUpTestSuite() {
    static const bool registered = [] {
      monitor::PolicyRegistry::global().add(kHalfAfterFirstWindow, [](const monitor::PolicyParams& params) {
        monitor::PolicyParams half = params;
        half.static_share = 0.5;
        return monitor::make_static_policy(half);
      });
      return true;
    }();
    (void)registered;
  }
};

// Simulates a training step; no assertion depends on how long it takes.
std::function<void(Runtime&, const Batch&)> train_3ms() {
  return [](Runtime&, const Batch&) { std::this_thread::sleep_for(std::chrono::milliseconds(3)); };
}

// Half of the batches of each stage go to the stand-in device, interleaved with CPU batches: every batch
// still equals LocalLoader's (order and bytes), and both the transformer and the consumers ran device jobs.
TEST_P(DevicePaths, HalfOnTheDeviceGivesTheCpuBatches) {
  HostDeviceCounters counters;
  transform::set_accelerator_factory_for_tests(HostAccelerator::factory(counters));
  const Config c = config(0.5);
  const JobResult r = run_job(c, train_3ms());
  expect_local_loader_job(c, r);
  const std::uint64_t consumer_jobs = sum_all(r.consumer ? counters.jobs.load() : 0);
  const std::uint64_t service_jobs = sum_all(r.consumer ? 0 : counters.jobs.load());
  EXPECT_GT(consumer_jobs, 0u) << "no augment batch ran on a consumer's device";
  EXPECT_EQ(counters.misuse.load(), 0u);
  EXPECT_EQ(counters.outstanding.load(), 0);
  EXPECT_GT(service_jobs, 0u) << "no prepare batch ran on the transformer's device";
  if (world_rank() == 0)
    std::printf("device jobs: %llu augment (consumers), %llu prepare (transformer)\n",
                static_cast<unsigned long long>(consumer_jobs),
                static_cast<unsigned long long>(service_jobs));
}

// A static share of 0 keeps every batch on the CPUs although every rank has a device.
TEST_P(DevicePaths, ShareZeroRunsNothingOnTheDevice) {
  HostDeviceCounters counters;
  transform::set_accelerator_factory_for_tests(HostAccelerator::factory(counters));
  const Config c = config(0.0);
  const JobResult r = run_job(c, {});
  expect_local_loader_job(c, r);
  EXPECT_EQ(sum_all(counters.jobs.load()), 0u);
}

// The device fails its third job on every rank: that batch is prepared or augmented again on the CPU, the
// rank stops using its device, and the job finishes with every batch exact.
TEST_P(DevicePaths, AFailedDeviceJobFallsBackToTheCpu) {
  HostDeviceCounters counters;
  transform::set_accelerator_factory_for_tests(HostAccelerator::factory(counters, 2));
  const Config c = config(1.0);
  const JobResult r = run_job(c, train_3ms());
  expect_local_loader_job(c, r);
  // Every rank that used its device failed its third job, once. Jobs already launched when the failure came
  // back still finish (a consumer has at most prefetch - 1 batches launched ahead of the one it collects;
  // a transformer's queue may hold more), and none is started after it.
  EXPECT_GT(sum_all(counters.failed.load()), 0u);
  EXPECT_LE(counters.failed.load(), 1u);
  if (r.consumer) {
    EXPECT_LE(counters.jobs.load(), 2u + static_cast<std::uint64_t>(c.runtime.prefetch) - 1);
  }
  EXPECT_EQ(counters.outstanding.load(), 0);
  EXPECT_EQ(counters.misuse.load(), 0u);
}

// A job list that moves work mid-job: ranks start on their CPUs, and once the first list has come the
// transformer prepares and the consumers augment part of their batches on their devices; every batch is
// still exact. (When the adaptive policy moves work is a pure function of the windows it reads, tested as
// tables in tests/monitor: Policy.*; whether real measurements make it move on a given machine is a
// benchmark, not a test.)
TEST_P(DevicePaths, AJobListMovesBothStagesMidJob) {
  HostDeviceCounters counters;
  transform::set_accelerator_factory_for_tests(HostAccelerator::factory(counters));
  Config c = moved_by_the_first_job_list();
  c.pipelines[0].augment = {
      {"image", parse_op_chain("random_flip | resize(height=96, width=96) | noise(std=0.05)", "test")}};
  const JobResult r = run_job(c, {});
  expect_local_loader_job(c, r);
  EXPECT_GT(sum_all(r.consumer ? 0 : counters.jobs.load()), 0u) << "no prepare batch ran on a device";
  EXPECT_GT(sum_all(r.consumer ? counters.jobs.load() : 0), 0u) << "no augment batch ran on a device";
  EXPECT_EQ(counters.outstanding.load(), 0);
  EXPECT_EQ(counters.misuse.load(), 0u);
}

// Each consumer stops at the first batch after which it has an augment job on its device: the job ends on
// every rank, the jobs still on the device at the stop are collected, and every job staged on a device is
// released exactly once. next_batch() launches ahead (start_ahead) the later batches of the ring whose data
// are in, so a job is on the device after it returns when the transformer is ahead of the consumer. The
// test puts it ahead: the randomizer describes `prefetch` batches per consumer before any credit, each a
// prepare job on the transformer's device (epoch 0 is all misses, static share 1), and each consumer waits
// until the transformer has made them all before its first next_batch(). What is left to timing is only the
// transformer's progress thread sending a finished batch (the count rises when the device job ends); each
// later return of both consumers is another chance. (Before the wait, a consumer as fast as the transformer
// could find no later batch complete at any return.)
TEST_P(DevicePaths, StoppingEarlyCollectsJobsStillOnTheDevice) {
  HostDeviceCounters counters;
  transform::set_accelerator_factory_for_tests(HostAccelerator::factory(counters));
  const Config c = config(1.0);
  bool consumer = false;
  long long in_flight_at_stop = 0;
  {
    Runtime rt(MPI_COMM_WORLD, c);
    if (rt.is_consumer()) {
      consumer = true;
      Loader& loader = rt.loader();
      const std::uint64_t described = 2 * c.runtime.prefetch;  // 2 consumers
      EXPECT_TRUE(wait_for_published("prepare_jobs", [&](std::uint64_t jobs) { return jobs >= described; }))
          << "the transformer's device prepared fewer than the " << described
          << " batches described at start";
      const std::uint64_t batches = loader.batches_per_epoch() * c.pipelines[0].epochs;
      std::uint64_t taken = 0;
      for (; taken < batches && counters.outstanding.load() == 0; ++taken)
        ASSERT_NE(loader.next_batch(), nullptr);
      in_flight_at_stop = counters.outstanding.load();
      std::printf("[ stop ] consumer %d: %llu of %llu batches, %lld jobs on its device\n",
                  rt.consumer_index(), static_cast<unsigned long long>(taken),
                  static_cast<unsigned long long>(batches), in_flight_at_stop);
    } else {
      const PublishedCount published("prepare_jobs", counters.jobs);
      rt.serve();
    }
  }
  EXPECT_EQ(counters.outstanding.load(), 0) << "a device job was never released";
  EXPECT_EQ(counters.misuse.load(), 0u);
  EXPECT_GT(sum_all(consumer ? counters.jobs.load() : 0), 0u) << "no augment job ran on a consumer's device";
  EXPECT_GT(sum_all(in_flight_at_stop > 0 ? 1 : 0), 0u) << "no consumer had a job on the device at the stop";
}

INSTANTIATE_TEST_SUITE_P(Transports, DevicePaths, ::testing::Values("ucx", "mpi"));

}  // namespace
}  // namespace ferry::test
