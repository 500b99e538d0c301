// Which prepare chains an accelerator can run (Chain::device_program) and with which parameters; the
// accelerator and NVML lookups on a machine without them; and, where a CUDA device is visible, the device
// running programs through the worker queue next to CPU jobs (skipped with a message elsewhere).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <mutex>
#include <numeric>

#include "ferry/error.hpp"
#include "helpers.hpp"
#include "transform/accelerator.hpp"
#include "transform/nvml.hpp"
#include "transform/target.hpp"

namespace ferry::transform::test {
namespace {

const TensorDesc kImage = TensorDesc::of(DType::u8, {6, 5, 3});

Chain prepare(const std::string& ops, const TensorDesc& desc = kImage) {
  return Chain(parse_op_chain(ops, "t"), desc, Stage::prepare, "image");
}

TEST(DeviceProgram, ElementwiseChainsBecomeSteps) {
  const Chain chain = prepare("cast(scale=0.5, shift=1) | normalize(mean=[0.1, 0.2, 0.3], std=[2]) | log1p");
  const auto program = chain.device_program();
  ASSERT_TRUE(program);
  ASSERT_EQ(program->steps.size(), 3u);
  EXPECT_EQ(program->input.bytes(), 6u * 5 * 3);
  EXPECT_EQ(program->output.bytes(), 6u * 5 * 3 * 4);
  const auto& cast = program->steps[0];
  EXPECT_EQ(cast.kind, DeviceStep::Kind::cast);
  EXPECT_EQ(cast.from, DType::u8);
  EXPECT_EQ(cast.scale, 0.5);
  EXPECT_EQ(cast.shift, 1.0);
  const auto& affine = program->steps[1];
  EXPECT_EQ(affine.kind, DeviceStep::Kind::affine);
  EXPECT_EQ(affine.sub, (std::vector<float>{0.1f, 0.2f, 0.3f}));
  EXPECT_EQ(affine.div, (std::vector<float>{2.f, 2.f, 2.f}));  // one value broadcast to every channel
  EXPECT_EQ(affine.stride, 1u);                                // HWC: channels are adjacent
  EXPECT_EQ(program->steps[2].kind, DeviceStep::Kind::log1p);
}

TEST(DeviceProgram, MinmaxIsAnAffineStep) {
  const auto program = prepare("cast | minmax(min=[0], max=[255])").device_program();
  ASSERT_TRUE(program);
  ASSERT_EQ(program->steps.size(), 2u);
  EXPECT_EQ(program->steps[1].sub, (std::vector<float>{0.f, 0.f, 0.f}));
  EXPECT_EQ(program->steps[1].div, (std::vector<float>{255.f, 255.f, 255.f}));
}

TEST(DeviceProgram, OpsWithoutDeviceKernelsStayOnTheCpu) {
  std::string why;
  EXPECT_FALSE(prepare("cast | resize(height=4, width=4) | log1p").device_program(&why));
  EXPECT_NE(why.find("resize"), std::string::npos) << why;
  why.clear();
  EXPECT_FALSE(prepare("cast | hwc_to_chw").device_program(&why));
  EXPECT_NE(why.find("hwc_to_chw"), std::string::npos) << why;
  EXPECT_FALSE(prepare("").device_program(&why));
}

TEST(DeviceProgram, ChannelStrideFollowsTheLayout) {
  // A [4, 8, 8, 8] CosmoFlow-like volume (layout none): channels along the first axis, 512 apart.
  const auto program =
      prepare("cast | normalize(mean=[0, 1, 2, 3], std=[1])", TensorDesc::of(DType::i16, {4, 8, 8, 8}))
          .device_program();
  ASSERT_TRUE(program);
  EXPECT_EQ(program->steps[0].from, DType::i16);
  EXPECT_EQ(program->steps[1].stride, 512u);
  EXPECT_EQ(program->steps[1].sub.size(), 4u);
}

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
  if (const auto u = nvml.utilization(bus)) {
    EXPECT_GE(*u, 0.0);
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

}  // namespace
}  // namespace ferry::transform::test
