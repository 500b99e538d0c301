// Which prepare chains an accelerator can run (Chain::device_program) and with which parameters; the
// accelerator and NVML lookups on a machine without them; and, where a CUDA device is visible, the device
// running programs through the worker queue next to CPU jobs (skipped with a message elsewhere).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <mutex>
#include <numeric>

#include "common/host_launcher.hpp"
#include "ferry/error.hpp"
#include "helpers.hpp"
#include "transform/accelerator.hpp"
#include "transform/nvml.hpp"
#include "transform/target.hpp"

namespace ferry::transform::test {
namespace {

const TensorDesc kProgramImage = TensorDesc::of(DType::u8, {6, 5, 3});

Chain prepare(const std::string& ops, const TensorDesc& desc = kProgramImage) {
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

TEST(DeviceProgram, EveryBuiltInOpHasADeviceStep) {
  const Chain chain = prepare(
      "center_crop(height=4, width=4) | hwc_to_chw | chw_to_hwc | cast | resize(height=8, width=6) | "
      "minmax(min=[0], max=[255]) | normalize(mean=[0.5], std=[0.25]) | log1p");
  const auto program = chain.device_program();
  ASSERT_TRUE(program);
  using K = DeviceStep::Kind;
  std::vector<K> kinds;
  for (const auto& step : program->steps) kinds.push_back(step.kind);
  EXPECT_EQ(kinds, (std::vector<K>{K::window, K::transpose, K::transpose, K::cast, K::resize, K::affine,
                                   K::affine, K::log1p}));
  const auto& crop = program->steps[0];
  EXPECT_FALSE(crop.random);
  EXPECT_EQ(crop.top, 1);   // (6 - 4) / 2
  EXPECT_EQ(crop.left, 0);  // (5 - 4) / 2 rounds down
  EXPECT_EQ(crop.in, kProgramImage);
  EXPECT_EQ(crop.out.shape, (std::vector<std::size_t>{4, 4, 3}));
  EXPECT_TRUE(program->steps[1].to_chw);
  EXPECT_EQ(program->steps[1].out.layout, ImageLayout::chw);
  EXPECT_FALSE(program->steps[2].to_chw);
  EXPECT_EQ(program->steps[4].out.shape, (std::vector<std::size_t>{8, 6, 3}));
  // Each step reads what the one before wrote, and the largest sample is the resized f32 one.
  for (std::size_t i = 1; i < program->steps.size(); ++i)
    EXPECT_EQ(program->steps[i].in, program->steps[i - 1].out) << "step " << i;
  EXPECT_EQ(program->steps.back().out, chain.output());
  EXPECT_EQ(program->max_sample_bytes, 8u * 6 * 3 * 4);
  EXPECT_FALSE(program->random);
}

TEST(DeviceProgram, RandomStepsKnowTheirIndexInTheChain) {
  const Chain chain(
      parse_op_chain(
          "random_crop(height=4, width=4, padding=2) | random_flip(p=0.25) | cast | noise(std=0.1)", "t"),
      kProgramImage, Stage::augment, "image");
  const auto program = chain.device_program();
  ASSERT_TRUE(program);
  EXPECT_TRUE(program->random);
  const auto& crop = program->steps[0];
  EXPECT_TRUE(crop.random);
  EXPECT_EQ(crop.pad, 2);
  EXPECT_EQ(crop.op_index, 0u);
  EXPECT_TRUE(program->steps[1].random);
  EXPECT_EQ(program->steps[1].flip_p, 0.25f);
  EXPECT_EQ(program->steps[1].op_index, 1u);
  EXPECT_FALSE(program->steps[2].random);
  EXPECT_EQ(program->steps[3].kind, DeviceStep::Kind::noise);
  EXPECT_EQ(program->steps[3].op_index, 3u);
  EXPECT_NEAR(program->steps[3].stdev, 0.1f, 1e-9);
}

// An op registered without a device kernel keeps its chain on the CPU, and `why` names it.
TEST(DeviceProgram, AnOpWithoutDeviceKernelKeepsTheChainOnTheCpu) {
  class HostOnly final : public Op {
   public:
    explicit HostOnly(const TensorDesc& in) : Op("host_only", in) {}
    void run(const OpRun& r) override { std::memcpy(r.out, r.in, r.n * output().bytes()); }
  };
  OpRegistry registry;
  add_elementwise_ops(registry);
  registry.add("host_only", {[](const OpArgs& a) { return std::make_unique<HostOnly>(a.input()); }, {}});
  const Chain chain(parse_op_chain("cast | host_only | log1p", "t"), kProgramImage, Stage::prepare, "image",
                    registry);
  std::string why;
  EXPECT_FALSE(chain.device_program(&why));
  EXPECT_NE(why.find("host_only"), std::string::npos) << why;
  EXPECT_FALSE(prepare("").device_program(&why));
  EXPECT_NE(why.find("empty"), std::string::npos) << why;
}

// The program of a chain, run step by step with host launchers of the same functors (what the CUDA device
// does, one flat launch per step), gives the chain's bytes exactly: prepare and augment chains, every op,
// u8/u16/f32 inputs, random draws keyed by (seed, epoch, ID, op index).
TEST(DeviceProgram, ProgramsComputeWhatTheirChainsCompute) {
  struct Case {
    TensorDesc input;
    Stage stage;
    std::string ops;
  };
  const std::vector<Case> cases = {
      {kProgramImage, Stage::prepare,
       "cast(scale=0.5, shift=1) | normalize(mean=[0.1, 0.2, 0.3], std=[2]) | log1p"},
      {kProgramImage, Stage::prepare, "center_crop(height=4, width=3) | cast(scale=0.00392) | hwc_to_chw"},
      {TensorDesc::of(DType::u16, {7, 9, 2}), Stage::prepare, "hwc_to_chw | chw_to_hwc | hwc_to_chw"},
      {TensorDesc::of(DType::u8, {12, 10}), Stage::prepare,
       "cast | resize(height=5, width=7) | minmax(min=[0], max=[255])"},
      {TensorDesc::of(DType::i16, {4, 6, 6, 6}), Stage::prepare,
       "cast | normalize(mean=[0, 1, 2, 3], std=[2]) | log1p"},
      {kProgramImage, Stage::augment,
       "random_crop(height=4, width=4, padding=3) | random_flip | cast | noise(std=0.5, mean=1)"},
      {TensorDesc::of(DType::f32, {8, 8, 3}), Stage::augment,
       "random_flip(p=0.5) | hwc_to_chw | random_crop(height=6, width=5)"},
      {TensorDesc::of(DType::f32, {16, 16}), Stage::augment,
       "noise(std=0.2) | random_crop(height=8, width=8, padding=4)"},
  };
  constexpr std::size_t kSamples = 9;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.ops);
    Chain chain(parse_op_chain(c.ops, "t"), c.input, c.stage, "image");
    const auto program = chain.device_program();
    ASSERT_TRUE(program);
    std::vector<std::byte> in(kSamples * c.input.bytes());
    for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<std::byte>((i * 37 + 11) % 251);
    std::vector<std::uint64_t> ids(kSamples);
    for (std::size_t i = 0; i < kSamples; ++i) ids[i] = 1000 + 17 * i;
    std::vector<std::byte> want(kSamples * chain.output().bytes());
    chain.run(in.data(), want.data(), kSamples, ids.data(), 42, 3);

    std::vector<std::byte> a(kSamples * program->max_sample_bytes), b(a.size());
    std::vector<std::uint64_t> keys(kSamples);
    std::vector<std::byte> places(kSamples * HostLauncher::kPlacementBytes);
    std::vector<const float*> sub, div;
    for (const auto& step : program->steps) {
      sub.push_back(step.sub.data());
      div.push_back(step.div.data());
    }
    ProgramMemory memory{in.data(),   a.data(),      b.data(),   ids.data(),
                         keys.data(), places.data(), sub.data(), div.data()};
    HostLauncher launcher;
    const void* got = run_program(*program, kSamples, memory, 42, 3, launcher);
    EXPECT_EQ(std::memcmp(got, want.data(), want.size()), 0);
    // Another epoch draws differently (when random), so the comparison above is not vacuous.
    if (program->random) {
      const void* other = run_program(*program, kSamples, memory, 42, 4, launcher);
      EXPECT_NE(std::memcmp(other, want.data(), want.size()), 0);
    }
  }
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
