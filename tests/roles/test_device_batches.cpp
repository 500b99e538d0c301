// Device-resident batches (runtime.device_batches) end to end on machines without a GPU: every rank gets a
// host stand-in for its device (tests/common/host_accelerator.hpp) and for the NCCL link
// (tests/common/host_peer_link.hpp: MPI messages between "device memory" in host memory), so what runs is
// Ferry's own protocol: the transformer keeps its device result, announces it in kSamples without that
// field, the consumer posts one receive at a time and asks for the send with kDeviceReady, places the samples
// in the device batch beside the hits and host-delivered misses, and the batch's fixed fields are handed out
// in device memory. NCCL itself runs only where a GPU is lent.
// 5 ranks: 1 randomizer, 1 cache server, 1 transformer, 2 consumers; both transports.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "common/host_accelerator.hpp"
#include "common/host_peer_link.hpp"
#include "harness.hpp"
#include "transform/target.hpp"

namespace ferry::test {
namespace {

using transform::test::HostAccelerator;
using transform::test::HostDeviceCounters;
using transform::test::HostLinkCounters;
using transform::test::HostPeerLink;

class DeviceBatches : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (world_size() != 5) GTEST_SKIP() << "written for 5 ranks (1 randomizer, 2 service ranks, 2 consumers)";
  }
  void TearDown() override {
    transform::set_accelerator_factory_for_tests({});
    transform::set_peer_link_factory_for_tests({});
  }

  // Half of the 480 samples fit the cache: every batch mixes hits (host memory, uploaded) and misses. Every
  // prepare batch goes to the transformer's device (static share 1). No augment stage by default, so the
  // prepared image field is final and can travel device to device.
  Config config() const {
    Config c = device_job_config(GetParam(), 1.0);
    c.runtime.device_batches = true;
    c.pipelines[0].augment.clear();
    return c;
  }

  // Host stand-ins for every rank's GPU (none with `device` null) and for the link.
  static void install(HostDeviceCounters* device, HostLinkCounters& link) {
    if (device) transform::set_accelerator_factory_for_tests(HostAccelerator::factory(*device));
    transform::set_peer_link_factory_for_tests(HostPeerLink::factory(link));
  }

  // Every batch hands its fixed fields out in device memory only. Consumers "train" 3 ms per batch; no
  // assertion depends on it (the static share sends prepare batches to the device from the first batch).
  static std::function<void(Runtime&, const Batch&)> expect_on_device(std::uint64_t& host_fields) {
    return [&host_fields](Runtime&, const Batch& b) {
      for (const auto& f : b.fields) host_fields += !f.on_device() || f.data != nullptr;
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
    };
  }
};

// The transformer prepares every miss on its device and sends the image field device to device; hits and
// the label field come through host memory. Every batch equals LocalLoader's, byte for byte and in order,
// every transfer announced was received, and every device job, transfer and buffer is released.
TEST_P(DeviceBatches, PreparedSamplesGoDeviceToDevice) {
  HostDeviceCounters device;
  HostLinkCounters link;
  install(&device, link);
  const Config c = config();
  std::uint64_t host_fields = 0;
  const JobResult r = run_job(c, expect_on_device(host_fields));
  expect_local_loader_job(c, r);
  EXPECT_EQ(host_fields, 0u) << "a fixed field was handed out in host memory";
  const std::uint64_t received = sum_all(link.receives.load()), sent = sum_all(link.sends.load());
  EXPECT_GT(received, 0u) << "no sample went device to device";
  EXPECT_EQ(received, sent);
  // Every transfer carries the image field (3x6x5 f32) of each entry it holds.
  const std::uint64_t bytes = sum_all(link.bytes_received.load());
  EXPECT_EQ(bytes % (3 * 6 * 5 * 4), 0u);
  EXPECT_GT(sum_all(r.consumer ? 0 : device.jobs.load()), 0u);
  EXPECT_EQ(link.live.load(), 0);
  EXPECT_EQ(link.allocations.load(), 0) << "device memory not freed";
  EXPECT_EQ(link.misuse.load(), 0u);
  EXPECT_EQ(device.outstanding.load(), 0) << "a kept device result was never released";
  EXPECT_EQ(device.misuse.load(), 0u);
  // Connected at open: the transformer to each consumer, each consumer from the transformer (the cache
  // server does not transform without rebalancing, the randomizer never).
  EXPECT_EQ(sum_all(link.connected.load()), 4u);
  // Each slot's device fields were written after the caller's work on its previous batch.
  EXPECT_GT(sum_all(link.marks_used.load()), 0u);
  if (world_rank() == 0)
    std::printf("device to device: %llu transfers, %llu bytes\n", static_cast<unsigned long long>(received),
                static_cast<unsigned long long>(bytes));
}

// The consumers augment the image field: they need its prepared bytes in host memory, so the transformer
// sends them that way although it prepared them on its device; the batches are still in device memory.
// Without an accelerator on the transformer the same holds.
TEST_P(DeviceBatches, AugmentedFieldsAndCpuPreparedSamplesComeThroughHostMemory) {
  for (const bool transformer_device : {true, false}) {
    SCOPED_TRACE(transformer_device ? "prepare on the device, augment" : "prepare on the CPU");
    HostDeviceCounters device;
    HostLinkCounters link;
    install(transformer_device ? &device : nullptr, link);
    Config c = config();
    if (transformer_device)
      c.pipelines[0].augment = {{"image", parse_op_chain("random_flip | noise(std=0.05)", "test")}};
    std::uint64_t host_fields = 0;
    const JobResult r = run_job(c, expect_on_device(host_fields));
    expect_local_loader_job(c, r);
    EXPECT_EQ(host_fields, 0u);
    EXPECT_EQ(sum_all(link.receives.load()), 0u);
    const std::uint64_t jobs = sum_all(r.consumer ? 0 : device.jobs.load());
    if (transformer_device) {
      EXPECT_GT(jobs, 0u);
    }
    EXPECT_EQ(link.allocations.load(), 0);
    EXPECT_EQ(device.outstanding.load(), 0);
    transform::set_accelerator_factory_for_tests({});
  }
}

// Consumers stop early while later batches are prefetched: device results announced to them and never asked
// for are dropped by the transformer at shutdown, every rank leaves, and nothing stays held. The static
// share applies from the first batch and the randomizer describes 6 batches per consumer ahead (prefetch 6),
// so the transformer's device prepares every consumer's first batches whether or not it asks for them. A
// consumer asks for a device transfer only inside next_batch(), and each device job is one consumer's: so
// consumer 0 takes 2 batches (its transfers are received, and the one receive it may have posted completes
// at shutdown) and consumer 1 takes none. Both then wait until the transformer's device has made more
// results than consumer 0 received, which holds whatever the timing: consumer 1's are never asked for.
TEST_P(DeviceBatches, StoppingEarlyReleasesEveryHeldDeviceResult) {
  HostDeviceCounters device;
  HostLinkCounters link;
  install(&device, link);
  Config c = config();
  c.runtime.prefetch = 6;
  bool consumer = false;
  {
    Runtime rt(MPI_COMM_WORLD, c);
    if (rt.is_consumer()) {
      consumer = true;
      Loader& loader = rt.loader();
      if (rt.consumer_index() == 0) {
        ASSERT_NE(loader.next_batch(), nullptr);
        ASSERT_NE(loader.next_batch(), nullptr);
      }
      std::uint64_t mine = link.receives.load() + static_cast<std::uint64_t>(link.live.load()), received = 0;
      MPI_Allreduce(&mine, &received, 1, MPI_UINT64_T, MPI_SUM, rt.consumer_comm());
      EXPECT_TRUE(wait_for_published("device_jobs", [&](std::uint64_t jobs) { return jobs > received; }))
          << "the transformer's device made no result beyond the " << received << " received";
    } else {
      const PublishedCount published("device_jobs", device.jobs);
      rt.serve();
    }
  }
  // Every device job of the transformer kept its result for a consumer; fewer went out than were made.
  EXPECT_GT(sum_all(consumer ? 0 : device.jobs.load()), sum_all(link.receives.load()))
      << "no announced device result was left unasked at the stop";
  EXPECT_EQ(device.outstanding.load(), 0) << "a kept device result was never released";
  EXPECT_EQ(link.live.load(), 0);
  EXPECT_EQ(link.allocations.load(), 0);
  EXPECT_EQ(link.misuse.load(), 0u);
  EXPECT_EQ(device.misuse.load(), 0u);
  EXPECT_GT(sum_all(link.receives.load()), 0u);
}

// A consumer fails in its training code after 12 batches, with device transfers announced and posted: every
// rank leaves with an error, and no device memory, kept result or transfer stays held (link.live == 0: each
// transfer posted completed or, still in flight at the failure, was aborted; whether any was in flight
// depends on timing, so how many links aborted is not asserted). The 20 ms per batch simulates training.
TEST_P(DeviceBatches, AFailingConsumerEndsTheJobWithNothingHeld) {
  HostDeviceCounters device;
  HostLinkCounters link;
  install(&device, link);
  const Config c = config();
  std::string caught;
  try {
    Runtime rt(MPI_COMM_WORLD, c);
    if (rt.is_consumer()) {
      Loader& loader = rt.loader();
      for (int k = 0;; ++k) {
        ASSERT_NE(loader.next_batch(), nullptr);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (k == 12 && rt.consumer_index() == 0) throw std::runtime_error("training failed");
      }
    } else {
      rt.serve();
    }
  } catch (const std::exception& e) {
    caught = e.what();
  }
  EXPECT_FALSE(caught.empty()) << "rank " << world_rank() << " left without an error";
  EXPECT_EQ(device.outstanding.load(), 0) << "a kept device result was never released";
  EXPECT_EQ(link.live.load(), 0);
  EXPECT_EQ(link.allocations.load(), 0);
  EXPECT_EQ(link.misuse.load(), 0u);
}

// Without a GPU (and no stand-in) every rank fails at set-up with one line that names the option and the
// consumer ranks, before any data moves.
TEST_P(DeviceBatches, ConsumersWithoutADeviceFailAtSetUp) {
  if (transform::cuda_device_count() > 0) GTEST_SKIP() << "this machine has a GPU";
  const Config c = config();
  try {
    Runtime rt(MPI_COMM_WORLD, c);
    ADD_FAILURE() << "set-up succeeded without a device";
  } catch (const ConfigError& e) {
    const std::string text = e.what();
    EXPECT_NE(text.find("runtime.device_batches"), std::string::npos) << text;
    EXPECT_NE(text.find("ranks 3-4"), std::string::npos) << text;
  }
}

INSTANTIATE_TEST_SUITE_P(Transports, DeviceBatches, ::testing::Values("ucx", "mpi"));

}  // namespace
}  // namespace ferry::test
