// The runtime's accelerator paths end to end on machines without a GPU: every rank gets a host stand-in for
// its device (tests/common/host_accelerator.hpp: the CUDA device's step sequencer with Kokkos host launchers,
// the same functors), so what runs is Ferry's own device logic (the job list routing prepare batches to the
// transformation rank's device through its worker queue and augment batches to each consumer's, DeviceArgs
// keys, the CPU fallback after a failed job, utilization reports reaching the policy). CUDA itself runs only
// where a GPU is lent (tests/transform: Accelerator.*).
// 5 ranks: 1 randomizer, 1 cache server, 1 transformer, 2 consumers; both transports.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "common/host_accelerator.hpp"
#include "harness.hpp"

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

  // Half of the 480 samples fit the cache, so every epoch has misses for the transformer; consumers train
  // 3 ms per batch, so the job runs long enough for windows (20 ms) with device reports to place work.
  Config config(double share) const { return device_job_config(GetParam(), share); }

  // The adaptive policy, moving a half share after one window.
  Config adaptive() const {
    Config c = config(0.0);
    c.monitor.policy = "adaptive";
    c.monitor.hysteresis = 1;
    c.monitor.step = 0.5;
    return c;
  }
};

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

// The adaptive policy from real reports: the prepare stage is expensive (resize to 96x96, log1p) and the
// consumers, which do not train, wait. Every rank's device idles, so after a window below the low-water mark
// the policy offloads both stages (hysteresis 1, step 0.5): the transformer and the consumers run device
// jobs, and every batch is still exact.
TEST_P(DevicePaths, AdaptivePolicyOffloadsWhileConsumersStarve) {
  HostDeviceCounters counters;
  transform::set_accelerator_factory_for_tests(HostAccelerator::factory(counters));
  Config c = adaptive();
  // The consumers' queues hold 2 of 3 batches on average here (much of their wait is their own augment
  // work at pop), so "starving" is set above that: mean occupancy below 0.85.
  c.monitor.low_water = 0.85;
  c.monitor.high_water = 0.95;
  c.runtime.cache_bytes = 8 * (96 * 96 * 3 * 4 + 128);  // a few entries: misses all along
  PipelineConfig& p = c.pipelines[0];
  p.epochs = 2;
  p.prepare = {
      {"image", parse_op_chain("cast(scale=0.0039215686) | resize(height=96, width=96) | log1p", "test")}};
  p.augment = {{"image", parse_op_chain("random_flip | noise(std=0.05)", "test")}};
  const JobResult r = run_job(c, {});
  expect_local_loader_job(c, r);
  EXPECT_GT(sum_all(r.consumer ? 0 : counters.jobs.load()), 0u)
      << "the policy never offloaded the prepare stage";
  EXPECT_GT(sum_all(r.consumer ? counters.jobs.load() : 0), 0u)
      << "the policy never offloaded the augment stage";
}

// The default marks (low_water 0.25, high_water 0.9) with an expensive augment stage: the consumers' queues
// stay full (prepare is cheap) while they spend their time augmenting at pop. monitor.augment_share reads
// that cost, so the adaptive policy offloads the augment stage to the consumers' idle devices; every batch is
// still exact.
TEST_P(DevicePaths, AdaptivePolicyOffloadsAugmentHeavyConsumersAtTheDefaultMarks) {
  HostDeviceCounters counters;
  transform::set_accelerator_factory_for_tests(HostAccelerator::factory(counters));
  Config c = adaptive();
  PipelineConfig& p = c.pipelines[0];
  p.epochs = 2;
  p.augment = {
      {"image", parse_op_chain("random_flip | resize(height=96, width=96) | noise(std=0.05)", "test")}};
  const JobResult r = run_job(c, {});
  expect_local_loader_job(c, r);
  EXPECT_GT(sum_all(r.consumer ? counters.jobs.load() : 0), 0u)
      << "the policy never offloaded the augment stage";
  EXPECT_EQ(counters.outstanding.load(), 0);
}

// Consumers stop after 20 batches with later batches prefetched and their augment jobs launched ahead on
// the device: the job ends on every rank, the jobs still on the device at the stop are collected, and every
// job staged on a device is released exactly once.
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
      for (int k = 0; k < 20; ++k) {
        ASSERT_NE(loader.next_batch(), nullptr);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // windows pass: the job list arrives
      }
      in_flight_at_stop = counters.outstanding.load();
    } else {
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
