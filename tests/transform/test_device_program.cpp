// Which prepare and augment chains an accelerator can run (Chain::device_program) and with which parameters,
// and that a program, run step by step with host launchers of the device's functors, computes the bytes its
// chain computes.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/host_launcher.hpp"
#include "helpers.hpp"
#include "transform/device_program.hpp"
#include "transform/op.hpp"

namespace ferry::transform::test {
namespace {

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

}  // namespace
}  // namespace ferry::transform::test
