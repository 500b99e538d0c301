// The accelerator and NVML lookups on a machine without them; and, where a CUDA device is visible, the device
// running programs through the worker queue next to CPU jobs, and drawing what the CPU draws (skipped with a
// message elsewhere).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <mutex>
#include <numeric>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "transform/accelerator.hpp"
#include "transform/nvml.hpp"
#include "transform/target.hpp"

namespace ferry::transform::test {
namespace {

TEST(Nvml, AbsentLibraryIsNoError) {
  Nvml nvml;  // never throws
  if (!nvml.available()) {
    EXPECT_FALSE(nvml.why_not().empty());
    EXPECT_FALSE(nvml.utilization("0000:00:00.0"));
    GTEST_SKIP() << "NVML not available here: " << nvml.why_not();
  }
  EXPECT_TRUE(nvml.why_not().empty());
  std::string bus;
  if (auto accelerator = open_accelerator(0)) bus = accelerator->pci_bus_id();
  // NVML reports an unsigned percentage: the fraction cannot be negative, and must not be a percentage.
  if (const auto u = nvml.utilization(bus)) {
    EXPECT_LE(*u, 1.0);
  }
}

TEST(Accelerator, NoneWithoutADeviceSaysWhy) {
  std::string why;
  auto accelerator = open_accelerator(0, &why);
  if (cuda_device_count() == 0) {
    EXPECT_FALSE(accelerator);
    EXPECT_FALSE(why.empty());
    GTEST_SKIP() << "no accelerator here (" << why
                 << "): the device path is exercised where a GPU is visible";
  }
  ASSERT_TRUE(accelerator) << why;
  EXPECT_EQ(accelerator->name().rfind("cuda:0", 0), 0u) << accelerator->name();
  EXPECT_FALSE(accelerator->pci_bus_id().empty());
}

// On a GPU: device jobs and CPU jobs of one consumer interleaved through the worker queue. Every device
// result matches the CPU chain (cast and normalize exactly, log1p to a few ulps), and hand-offs come in
// submission order.
TEST(Accelerator, DeviceJobsMatchTheCpuChainInOrder) {
  std::string why;
  auto accelerator = open_accelerator(0, &why);
  if (!accelerator) GTEST_SKIP() << "no accelerator here: " << why;
  const TensorDesc desc = TensorDesc::of(DType::u8, {64, 64, 3});
  // log1p before normalize: its input stays in [0, 1] (log1p of a normalized value below -1 is NaN).
  const std::string ops =
      "cast(scale=0.00392157) | log1p | normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])";
  Chain cpu = prepare(ops, desc);
  const auto program = cpu.device_program();
  ASSERT_TRUE(program);
  const std::uint64_t kernel = accelerator->add_program(*program);
  constexpr std::size_t kJobs = 24, kSamples = 16;
  std::vector<std::vector<std::byte>> in(kJobs), out(kJobs), want(kJobs);
  for (std::size_t j = 0; j < kJobs; ++j) {
    in[j].resize(kSamples * desc.bytes());
    for (std::size_t i = 0; i < in[j].size(); ++i) in[j][i] = static_cast<std::byte>((i * 7 + j * 13) % 256);
    out[j].resize(kSamples * program->output.bytes());
    want[j].resize(out[j].size());
    cpu.run(in[j].data(), want[j].data(), kSamples, nullptr, 0, 0);
  }
  std::vector<Chain> worker_chains;
  for (int w = 0; w < 2; ++w) worker_chains.push_back(prepare(ops, desc));
  std::mutex mutex;
  std::vector<std::size_t> order;
  {
    WorkerQueue queue(WorkerQueueOptions{2, 8, std::chrono::microseconds(200)}, &accelerator->device());
    for (std::size_t j = 0; j < kJobs; ++j) {
      WorkerQueue::Work work;
      if (j % 3 == 0) {
        work = WorkerQueue::CpuWork([&, j](std::size_t w) {
          worker_chains[w].run(in[j].data(), out[j].data(), kSamples, nullptr, 0, 0);
        });
      } else {
        work = DeviceJob{kernel, in[j].data(), in[j].size(), out[j].data(), out[j].size(), kSamples, nullptr};
      }
      queue.submit(0, std::move(work), [&, j](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
        std::lock_guard<std::mutex> lock(mutex);
        order.push_back(j);
      });
    }
    queue.drain();
  }
  std::vector<std::size_t> expected(kJobs);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(order, expected);
  for (std::size_t j = 0; j < kJobs; ++j) {
    const auto* got = reinterpret_cast<const float*>(out[j].data());
    const auto* ref = reinterpret_cast<const float*>(want[j].data());
    for (std::size_t i = 0; i < out[j].size() / sizeof(float); ++i)
      ASSERT_NEAR(got[i], ref[i], 4e-6f * std::max(1.0f, std::fabs(ref[i])))
          << "job " << j << " element " << i;
  }
  EXPECT_GT(accelerator->device().busy_ns(), 0u);
}

// On a GPU: an augment chain with every random op, run by the device with the samples' IDs, seed and epoch,
// draws what the CPU chain draws (crop offsets and flips exactly; float results to a few ulps, since the
// device's logf/cosf may differ in the last bit).
TEST(Accelerator, DeviceAugmentDrawsWhatTheCpuDraws) {
  std::string why;
  auto accelerator = open_accelerator(0, &why);
  if (!accelerator) GTEST_SKIP() << "no accelerator here: " << why;
  const TensorDesc desc = TensorDesc::of(DType::f32, {32, 32, 3});
  const std::string ops =
      "random_crop(height=28, width=28, padding=4) | random_flip | noise(std=0.1) | hwc_to_chw | "
      "resize(height=16, width=16)";
  Chain cpu(parse_op_chain(ops, "t"), desc, Stage::augment, "image");
  const auto program = cpu.device_program();
  ASSERT_TRUE(program);
  const std::uint64_t kernel = accelerator->add_program(*program);
  constexpr std::size_t kSamples = 32;
  std::vector<float> in(kSamples * desc.elements());
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>((i * 29) % 97) / 97.0f;
  std::vector<std::uint64_t> ids(kSamples);
  for (std::size_t i = 0; i < kSamples; ++i) ids[i] = 7 * i + 3;
  std::vector<float> want(kSamples * cpu.output().elements()), got(want.size());
  cpu.run(reinterpret_cast<const std::byte*>(in.data()), reinterpret_cast<std::byte*>(want.data()), kSamples,
          ids.data(), 5, 2);
  const DeviceArgs args{ids.data(), 5, 2};
  Device& device = accelerator->device();
  const DeviceJob job{kernel,
                      reinterpret_cast<const std::byte*>(in.data()),
                      in.size() * sizeof(float),
                      reinterpret_cast<std::byte*>(got.data()),
                      got.size() * sizeof(float),
                      kSamples,
                      &args};
  const Device::Ticket ticket = device.stage(job);
  device.launch(ticket);
  while (!device.poll(ticket)) device.wait(std::chrono::microseconds(200));
  device.release(ticket);
  for (std::size_t i = 0; i < want.size(); ++i)
    ASSERT_NEAR(got[i], want[i], 1e-5f * std::max(1.0f, std::fabs(want[i]))) << "element " << i;
}

}  // namespace
}  // namespace ferry::transform::test
