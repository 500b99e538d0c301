// vmath::log1p (the host log1p kernel) against a scalar reference: log1p in double rounded to float, which
// is the correctly rounded result but for rare double-rounding ties. Timing-free.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>
#include <vector>

#include "transform/vector_math.hpp"

namespace ferry::transform::test {
namespace {

// The bound the kernel promises (vector_math.hpp): 2 ulp for libmvec, SLEEF's 1 ulp fits inside it.
constexpr std::int64_t kMaxUlp = 2;

std::int64_t ordered(float x) {
  std::int32_t i;
  std::memcpy(&i, &x, sizeof i);
  return i < 0 ? -static_cast<std::int64_t>(i & 0x7fffffff) : i;
}

std::int64_t ulp_distance(float a, float b) {
  return std::llabs(ordered(a) - ordered(b));
}

float from_bits(std::uint32_t bits) {
  float x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

float reference(float x) {
  return static_cast<float>(std::log1p(static_cast<double>(x)));
}

void expect_within_bound(const std::vector<float>& in) {
  std::vector<float> out(in.size());
  vmath::log1p(in.data(), out.data(), in.size());
  std::int64_t worst = 0;
  float worst_x = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const std::int64_t d = ulp_distance(out[i], reference(in[i]));
    if (d > worst) worst = d, worst_x = in[i];
  }
  EXPECT_LE(worst, kMaxUlp) << "at x = " << worst_x << " (" << vmath::log1p_backend() << ")";
}

bool sleef() {
  return std::string_view(vmath::log1p_backend()).starts_with("sleef");
}

// Every 1021st float of [0, FLT_MAX] (2 M inputs) and every 509th of (-1, 0): all exponents, many mantissas.
// SLEEF's log1pf is documented for [-1, 1e38] and flushes subnormal inputs to 0: skipped there.
TEST(VectorLog1p, WithinBoundOverEveryExponent) {
  std::vector<float> in;
  for (std::uint64_t b = 0; b < 0x7f800000u; b += 1021) {
    const float x = from_bits(static_cast<std::uint32_t>(b));
    if (!sleef() || (x <= 1e38f && std::isnormal(x))) in.push_back(x);
  }
  expect_within_bound(in);
  in.clear();
  for (std::uint64_t b = 0x80800000u; b < 0xbf800000u; b += 509)
    in.push_back(from_bits(static_cast<std::uint32_t>(b)));
  expect_within_bound(in);
}

// The values prepare chains feed it: small integers (cast of CosmoFlow's i16 counts) and [0, 1] pixels.
TEST(VectorLog1p, WithinBoundOnIntegersAndUnitInterval) {
  std::vector<float> in;
  for (int v = 0; v <= 32767; ++v) in.push_back(static_cast<float>(v));
  for (int v = 0; v <= 255; ++v) in.push_back(static_cast<float>(v) * 0.00392157f);
  expect_within_bound(in);
}

TEST(VectorLog1p, SpecialValues) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  const std::vector<float> in = {-1.0f, -2.0f, -kInf,  kInf,    std::nanf(""),
                                 0.0f,  -0.0f, 1e-30f, -1e-30f, std::numeric_limits<float>::denorm_min()};
  std::vector<float> out(in.size());
  vmath::log1p(in.data(), out.data(), in.size());
  EXPECT_EQ(out[0], -kInf);
  EXPECT_TRUE(std::isnan(out[1]));
  EXPECT_TRUE(std::isnan(out[2]));
  EXPECT_EQ(out[3], kInf);
  EXPECT_TRUE(std::isnan(out[4]));
  EXPECT_EQ(out[5], 0.0f);
  EXPECT_TRUE(out[6] == 0.0f && std::signbit(out[6]));
  EXPECT_EQ(out[7], 1e-30f);
  EXPECT_EQ(out[8], -1e-30f);
  if (!sleef()) {
    EXPECT_EQ(out[9], std::numeric_limits<float>::denorm_min());
  }
}

// An element's result never depends on its position or the call's length (tails are padded, not sent
// through a scalar libm call): what makes a batch prepared whole equal one prepared sample by sample.
TEST(VectorLog1p, SameBitsWhateverTheOffsetAndLength) {
  std::vector<float> in(100);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = 0.37f * static_cast<float>(i * i % 97) + 1e-3f;
  std::vector<float> whole(in.size());
  vmath::log1p(in.data(), whole.data(), in.size());
  for (std::size_t begin = 0; begin < 40; ++begin) {
    for (std::size_t n = 0; begin + n <= in.size(); n += 1 + n / 3) {
      std::vector<float> part(n + 1, -7.0f);
      vmath::log1p(in.data() + begin, part.data(), n);
      for (std::size_t i = 0; i < n; ++i) {
        ASSERT_EQ(std::memcmp(&part[i], &whole[begin + i], sizeof(float)), 0)
            << "begin " << begin << " n " << n;
      }
      ASSERT_EQ(part[n], -7.0f) << "wrote past the end";
    }
  }
}

TEST(VectorLog1p, InPlace) {
  std::vector<float> x = {0.0f, 1.0f, 2.0f, 3.5f, 1e3f};
  std::vector<float> want(x.size());
  vmath::log1p(x.data(), want.data(), x.size());
  vmath::log1p(x.data(), x.data(), x.size());
  EXPECT_EQ(x, want);
}

}  // namespace
}  // namespace ferry::transform::test
