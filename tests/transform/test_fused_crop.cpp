// The per-sample bilinear resampler against kernels::Bilinear (the functor the fixed-shape resize and the
// CUDA launcher run), and random_resized_crop with the ops it absorbs (random_flip, cast, normalize)
// against the same chain run op by op: the same bytes, whatever the layout, order or dtype.
#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>  // before the kernels, so FERRY_HD is KOKKOS_INLINE_FUNCTION
#include <random>

#include "helpers.hpp"
#include "transform/kernels_image.hpp"
#include "transform/resample.hpp"

namespace ferry::transform::test {
namespace {

// kernels::Bilinear over window `box`, pixel by pixel: the reference.
template <typename T>
std::vector<T> bilinear_reference(const std::vector<T>& in, const TensorDesc& in_desc, const CropBox& box,
                                  const TensorDesc& out_desc) {
  const ImageGeometry g = geometry(in_desc), o = geometry(out_desc);
  std::vector<T> out(out_desc.elements());
  const kernels::Bilinear<T> f{in.data(),
                               out.data(),
                               {g.planes, box.height, box.width, g.inner},
                               {o.planes, o.height, o.width, o.inner},
                               static_cast<float>(box.height) / static_cast<float>(o.height),
                               static_cast<float>(box.width) / static_cast<float>(o.width),
                               box.top,
                               box.left,
                               g.height,
                               g.width};
  for (std::size_t q = 0; q < o.planes; ++q)
    for (std::size_t y = 0; y < o.height; ++y)
      for (std::size_t x = 0; x < o.width; ++x) f(q, y, x);
  return out;
}

template <typename T>
void check_resample_against_reference(DType dtype) {
  std::mt19937_64 gen(11);
  const auto pick = [&](std::size_t lo, std::size_t hi) {
    return std::uniform_int_distribution<std::size_t>(lo, hi)(gen);
  };
  Resampler resampler;  // one for all cases: its tables and row cache are reset per call
  for (int round = 0; round < 60; ++round) {
    const bool chw = round % 2 == 1;
    const std::size_t h = pick(1, 70), w = pick(1, 70), c = round % 3 == 0 ? 1 : 3;
    const std::vector<std::size_t> shape = chw ? std::vector{c, h, w} : std::vector{h, w, c};
    TensorDesc in_desc = TensorDesc::of(dtype, shape);
    if (chw) in_desc.layout = ImageLayout::chw;
    CropBox box;
    box.height = pick(1, h);
    box.width = pick(1, w);
    box.top = pick(0, h - box.height);
    box.left = pick(0, w - box.width);
    const TensorDesc out_desc = resized(in_desc, pick(1, 90), pick(1, 90));  // up and down
    const auto in = random_values<T>(in_desc.elements(), 100 + round);
    const auto want = bilinear_reference(in, in_desc, box, out_desc);
    std::vector<std::byte> got(out_desc.bytes());
    resampler.run(to_bytes(in).data(), in_desc, box, got.data(), out_desc);
    ASSERT_EQ(from_bytes<T>(got), want) << in_desc.str() << " -> " << out_desc.str() << " round " << round;
  }
}

TEST(Resample, EqualsTheBilinearKernelU8) {
  check_resample_against_reference<std::uint8_t>(DType::u8);
}

TEST(Resample, EqualsTheBilinearKernelF32) {
  check_resample_against_reference<float>(DType::f32);
}

struct FusedCase {
  std::string ops;
  std::size_t absorbed;  // ops the first op runs itself
};

// The chain fused and op by op, over three epochs: same text, fingerprint and bytes.
void check_fused(const FusedCase& c, const TensorDesc& desc) {
  const std::size_t n = 5;
  const auto in = to_bytes(random_values<std::uint8_t>(n * desc.bytes(), 3));
  Chain fused(parse_op_chain(c.ops, "t"), desc, Stage::augment, "image");
  Chain plain(parse_op_chain(c.ops, "t"), desc, Stage::augment, "image", OpRegistry::global(), false);
  EXPECT_EQ(fused.absorbed_ops(), c.absorbed) << c.ops;
  EXPECT_EQ(plain.absorbed_ops(), 0u);
  EXPECT_EQ(fused.text(), plain.text());
  EXPECT_EQ(fused.fingerprint(), plain.fingerprint());
  const auto ids = iota_ids(n, 30);
  for (std::uint64_t epoch = 0; epoch < 3; ++epoch)
    EXPECT_EQ(run(fused, in, n, ids, 5, epoch), run(plain, in, n, ids, 5, epoch)) << c.ops << " " << epoch;
}

const char* const kNormalize = "normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])";

TEST(FusedCrop, SameBytesAsTheOpsOneByOne) {
  const TensorDesc hwc = TensorDesc::of(DType::u8, {40, 30, 3});
  const std::string crop = "random_resized_crop(size=24)";
  for (const FusedCase& c : std::vector<FusedCase>{
           {crop + " | random_flip | cast(scale=0.00392156862745098) | " + kNormalize, 3},
           {crop + " | cast | random_flip(p=0.3) | minmax(min=0, max=255) | " + kNormalize, 4},
           {crop + " | random_flip | random_flip | cast", 1},  // one absorbed random op only
           {crop + " | cast | log1p", 1},
           {crop + " | random_crop(height=20, width=20)", 0},
           {"cast | " + crop + " | random_flip | " + kNormalize, 1},  // f32: the flip only
       }) {
    check_fused(c, hwc);
  }
  // CHW: a plane is a channel.
  check_fused({"hwc_to_chw | " + crop + " | random_flip | cast | " + kNormalize, 3}, hwc);
  // Gray [H, W]: one channel.
  check_fused({crop + " | random_flip | cast | normalize(mean=0.5, std=0.25)", 3},
              TensorDesc::of(DType::u8, {33, 47}));
}

// cast absorbs an hwc_to_chw right after it (one pass over the floats): same bytes for every input type
// and channel count, and nothing else is absorbed.
TEST(FusedCast, CastThenHwcToChwSameBytesAsTheOpsOneByOne) {
  const std::string cast = "cast(scale=0.00392156862745098, shift=-0.5)";
  for (const DType dtype : {DType::u8, DType::i16, DType::f32})
    check_fused({cast + " | hwc_to_chw", 1}, TensorDesc::of(dtype, {17, 13, 3}));
  check_fused({"cast | hwc_to_chw", 1}, TensorDesc::of(DType::u8, {9, 7, 4}));
  check_fused({std::string("cast | hwc_to_chw | random_flip | ") + kNormalize, 1},
              TensorDesc::of(DType::u8, {16, 12, 3}));
  check_fused({"cast | random_flip | hwc_to_chw", 0}, TensorDesc::of(DType::u8, {16, 12, 3}));
}

}  // namespace
}  // namespace ferry::transform::test
