// Layout transposes, crops, flips and resize against scalar references written here.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "helpers.hpp"

namespace ferry::transform::test {
namespace {

struct Hwc {
  std::size_t h, w, c;
};
const std::vector<Hwc> kImages = {{5, 7, 1}, {9, 4, 3}, {3, 11, 16}, {8, 8, 3}, {1, 1, 1}};

template <typename T>
void check_transposes(DType dtype) {
  for (const Hwc& g : kImages) {
    const TensorDesc desc = TensorDesc::of(dtype, {g.h, g.w, g.c});
    const std::size_t n = 3;
    const auto in = random_values<T>(n * desc.elements(), 21, 0, 120);
    Chain to_chw(parse_op_chain("hwc_to_chw", "t"), desc, Stage::prepare, "x");
    EXPECT_EQ(to_chw.output().shape, (std::vector<std::size_t>{g.c, g.h, g.w}));
    EXPECT_EQ(to_chw.output().layout, ImageLayout::chw);
    const auto chw = from_bytes<T>(run(to_chw, to_bytes(in), n, iota_ids(n)));
    for (std::size_t s = 0; s < n; ++s)
      for (std::size_t y = 0; y < g.h; ++y)
        for (std::size_t x = 0; x < g.w; ++x)
          for (std::size_t c = 0; c < g.c; ++c)
            ASSERT_EQ(chw[((s * g.c + c) * g.h + y) * g.w + x], in[((s * g.h + y) * g.w + x) * g.c + c]);
    // And back: the round trip is the identity, byte for byte.
    const auto back = run_text("hwc_to_chw | chw_to_hwc", desc, to_bytes(in), n, Stage::prepare);
    EXPECT_EQ(back, to_bytes(in));
  }
}

TEST(TransposeOps, EveryElementSize) {
  check_transposes<std::uint8_t>(DType::u8);
  check_transposes<std::int16_t>(DType::i16);
  check_transposes<float>(DType::f32);
  check_transposes<double>(DType::f64);
}

TEST(TransposeOps, TwoDimensionalImageGetsOneChannel) {
  const TensorDesc desc = TensorDesc::of(DType::u8, {4, 6});
  Chain chain(parse_op_chain("hwc_to_chw", "t"), desc, Stage::prepare, "x");
  EXPECT_EQ(chain.output().shape, (std::vector<std::size_t>{1, 4, 6}));
  const auto in = random_values<std::uint8_t>(2 * desc.elements(), 1);
  EXPECT_EQ(run(chain, to_bytes(in), 2, iota_ids(2)), to_bytes(in));
}

// Window reference for an HWC image: out(y, x, c) = in(top + y, left + x', c), x' mirrored when flipped, zero
// outside the input.
template <typename T>
std::vector<T> ref_window(const T* in, const Hwc& g, std::size_t oh, std::size_t ow, long top, long left,
                          bool flip) {
  std::vector<T> out(oh * ow * g.c, T(0));
  for (std::size_t y = 0; y < oh; ++y) {
    for (std::size_t x = 0; x < ow; ++x) {
      const long sy = top + static_cast<long>(y);
      const long sx = left + static_cast<long>(flip ? ow - 1 - x : x);
      if (sy < 0 || sx < 0 || sy >= static_cast<long>(g.h) || sx >= static_cast<long>(g.w)) continue;
      for (std::size_t c = 0; c < g.c; ++c) out[(y * ow + x) * g.c + c] = in[(sy * g.w + sx) * g.c + c];
    }
  }
  return out;
}

TEST(CenterCropOp, MatchesReference) {
  for (const Hwc& g : kImages) {
    for (const auto& [oh, ow] :
         {std::pair<std::size_t, std::size_t>{1, 1}, {g.h, g.w}, {(g.h + 1) / 2, g.w / 2 + 1}}) {
      const TensorDesc desc = TensorDesc::of(DType::u16, {g.h, g.w, g.c});
      const std::size_t n = 3;
      const auto in = random_values<std::uint16_t>(n * desc.elements(), 4, 0, 60000);
      const std::string ops =
          "center_crop(height=" + std::to_string(oh) + ", width=" + std::to_string(ow) + ")";
      const auto out = from_bytes<std::uint16_t>(run_text(ops, desc, to_bytes(in), n, Stage::prepare));
      for (std::size_t s = 0; s < n; ++s) {
        const auto want =
            ref_window(in.data() + s * desc.elements(), g, oh, ow, static_cast<long>((g.h - oh) / 2),
                       static_cast<long>((g.w - ow) / 2), false);
        ASSERT_TRUE(std::equal(want.begin(), want.end(), out.begin() + s * want.size())) << ops;
      }
    }
  }
}

TEST(CenterCropOp, ChwKeepsChannelsAndTwoDimensionalStaysTwoDimensional) {
  const TensorDesc desc = TensorDesc::of(DType::f32, {7, 9, 3});
  Chain chain(parse_op_chain("hwc_to_chw | center_crop(height=3, width=4) | chw_to_hwc", "t"), desc,
              Stage::prepare, "x");
  EXPECT_EQ(chain.output().shape, (std::vector<std::size_t>{3, 4, 3}));
  const auto in = random_values<float>(desc.elements(), 2, -1, 1);
  const auto out = from_bytes<float>(run(chain, to_bytes(in), 1, iota_ids(1)));
  EXPECT_EQ(out, ref_window(in.data(), {7, 9, 3}, 3, 4, 2, 2, false));

  Chain flat(parse_op_chain("center_crop(height=2, width=2)", "t"), TensorDesc::of(DType::u8, {5, 5}),
             Stage::prepare, "x");
  EXPECT_EQ(flat.output().shape, (std::vector<std::size_t>{2, 2}));
}

// Finds the (top, left, flip) placement that explains a random window; random ops promise one exists.
template <typename T>
bool find_placement(const std::vector<T>& out, const T* in, const Hwc& g, std::size_t oh, std::size_t ow,
                    long pad, bool allow_flip, std::set<std::tuple<long, long, bool>>& seen) {
  for (long top = -pad; top <= static_cast<long>(g.h) - static_cast<long>(oh) + pad; ++top) {
    for (long left = -pad; left <= static_cast<long>(g.w) - static_cast<long>(ow) + pad; ++left) {
      for (bool flip : {false, true}) {
        if (flip && !allow_flip) continue;
        if (ref_window(in, g, oh, ow, top, left, flip) == out) {
          seen.insert({top, left, flip});
          return true;
        }
      }
    }
  }
  return false;
}

TEST(RandomCropOp, EveryOutputIsAPaddedWindowAndOffsetsVary) {
  const Hwc g{9, 7, 3};
  const TensorDesc desc = TensorDesc::of(DType::u8, {g.h, g.w, g.c});
  const std::size_t n = 64;
  // Values from 1 so a zero in the output can only be padding.
  const auto in = random_values<std::uint8_t>(n * desc.elements(), 5, 1, 255);
  const auto out =
      from_bytes<std::uint8_t>(run_text("random_crop(height=6, width=6, padding=2)", desc, to_bytes(in), n));
  std::set<std::tuple<long, long, bool>> seen;
  for (std::size_t s = 0; s < n; ++s) {
    const std::vector<std::uint8_t> sample(out.begin() + s * 108, out.begin() + (s + 1) * 108);
    ASSERT_TRUE(find_placement(sample, in.data() + s * desc.elements(), g, 6, 6, 2, false, seen)) << s;
  }
  EXPECT_GT(seen.size(), 10u);  // 7 x 6 offsets are possible
  bool padded = false;
  for (const auto& [top, left, flip] : seen) padded = padded || top < 0 || left < 0;
  EXPECT_TRUE(padded);
}

TEST(RandomFlipOp, ProbabilityZeroOneAndHalf) {
  const Hwc g{4, 5, 3};
  const TensorDesc desc = TensorDesc::of(DType::f32, {g.h, g.w, g.c});
  const std::size_t n = 200;
  const auto in = random_values<float>(n * desc.elements(), 6, -1, 1);
  EXPECT_EQ(run_text("random_flip(p=0)", desc, to_bytes(in), n), to_bytes(in));
  const auto all = from_bytes<float>(run_text("random_flip(p=1)", desc, to_bytes(in), n));
  const auto half = from_bytes<float>(run_text("random_flip", desc, to_bytes(in), n));
  std::size_t flipped = 0;
  for (std::size_t s = 0; s < n; ++s) {
    const float* src = in.data() + s * desc.elements();
    const auto mirror = ref_window(src, g, g.h, g.w, 0, 0, true);
    ASSERT_TRUE(std::equal(mirror.begin(), mirror.end(), all.begin() + s * mirror.size()));
    const bool same = std::equal(src, src + desc.elements(), half.begin() + s * mirror.size());
    const bool mirrored = std::equal(mirror.begin(), mirror.end(), half.begin() + s * mirror.size());
    ASSERT_TRUE(same || mirrored);
    flipped += mirrored;
  }
  EXPECT_GT(flipped, 70u);
  EXPECT_LT(flipped, 130u);
}

// Bilinear reference in double, align_corners=false, written per output pixel as torch documents it.
std::vector<float> ref_resize(const float* in, const Hwc& g, std::size_t oh, std::size_t ow) {
  std::vector<float> out(oh * ow * g.c);
  const auto src = [&](std::size_t o, std::size_t i, std::size_t size) {
    const double v =
        (static_cast<double>(o) + 0.5) * static_cast<double>(i) / static_cast<double>(size) - 0.5;
    return std::max(v, 0.0);
  };
  for (std::size_t y = 0; y < oh; ++y) {
    const double fy = src(y, g.h, oh);
    const std::size_t y0 = static_cast<std::size_t>(std::floor(fy));
    const std::size_t y1 = std::min(y0 + 1, g.h - 1);
    for (std::size_t x = 0; x < ow; ++x) {
      const double fx = src(x, g.w, ow);
      const std::size_t x0 = static_cast<std::size_t>(std::floor(fx));
      const std::size_t x1 = std::min(x0 + 1, g.w - 1);
      const double ly = fy - y0, lx = fx - x0;
      for (std::size_t c = 0; c < g.c; ++c) {
        const auto at = [&](std::size_t yy, std::size_t xx) {
          return static_cast<double>(in[(yy * g.w + xx) * g.c + c]);
        };
        out[(y * ow + x) * g.c + c] =
            static_cast<float>((1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) +
                               ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1)));
      }
    }
  }
  return out;
}

TEST(ResizeOp, MatchesBilinearReference) {
  for (const Hwc& g : kImages) {
    for (const auto& [oh, ow] : {std::pair<std::size_t, std::size_t>{1, 1},
                                 {g.h, g.w},
                                 {2 * g.h + 1, g.w + 3},
                                 {(g.h + 2) / 3, (g.w + 1) / 2}}) {
      const TensorDesc desc = TensorDesc::of(DType::f32, {g.h, g.w, g.c});
      const std::size_t n = 2;
      const auto in = random_values<float>(n * desc.elements(), 8, -1, 1);
      const std::string ops = "resize(height=" + std::to_string(oh) + ", width=" + std::to_string(ow) + ")";
      const auto out = from_bytes<float>(run_text(ops, desc, to_bytes(in), n, Stage::prepare));
      for (std::size_t s = 0; s < n; ++s) {
        const auto want = ref_resize(in.data() + s * desc.elements(), g, oh, ow);
        for (std::size_t i = 0; i < want.size(); ++i)
          ASSERT_NEAR(out[s * want.size() + i], want[i], 1e-5) << ops;
      }
    }
  }
}

TEST(ResizeOp, SameSizeIsIdentityAndKnownValues) {
  const TensorDesc desc = TensorDesc::of(DType::f32, {2, 2});
  const std::vector<float> in = {0, 1, 2, 3};
  // 2x2 -> 4x4 with half-pixel centres: first row is 0, 0.25, 0.75, 1 (torch's F.interpolate output).
  const auto out =
      from_bytes<float>(run_text("resize(height=4, width=4)", desc, to_bytes(in), 1, Stage::prepare));
  const std::vector<float> row0 = {0.0f, 0.25f, 0.75f, 1.0f};
  for (std::size_t x = 0; x < 4; ++x) EXPECT_FLOAT_EQ(out[x], row0[x]);
  EXPECT_FLOAT_EQ(out[15], 3.0f);
  EXPECT_EQ(run_text("resize(height=2, width=2)", desc, to_bytes(in), 1), to_bytes(in));
}

}  // namespace
}  // namespace ferry::transform::test
