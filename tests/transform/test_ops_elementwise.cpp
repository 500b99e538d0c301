// cast, normalize, minmax, log1p and noise against scalar references written here.
#include <gtest/gtest.h>

#include <cmath>

#include "core/hash.hpp"
#include "helpers.hpp"

namespace ferry::transform::test {
namespace {

// (H, W, C) image shapes with odd sizes and 1, 3 and 16 channels, plus a 2-D image.
const std::vector<std::vector<std::size_t>> kShapes = {{5, 7, 1}, {9, 4, 3}, {3, 11, 16}, {6, 5}, {1, 1, 3}};

template <typename T>
void check_cast(DType dtype, double lo, double hi) {
  for (const auto& shape : kShapes) {
    const TensorDesc desc = TensorDesc::of(dtype, shape);
    const std::size_t n = 3;
    const auto in = random_values<T>(n * desc.elements(), 11, lo, hi);
    const auto out = from_bytes<float>(run_text("cast(scale=0.5, shift=-3)", desc, to_bytes(in), n));
    ASSERT_EQ(out.size(), in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
      const double expect = static_cast<double>(in[i]) * 0.5 - 3.0;
      ASSERT_NEAR(out[i], expect, 1e-6 * std::abs(expect) + 1e-6) << dtype_name(dtype) << " i=" << i;
    }
  }
}

TEST(CastOp, EveryInputDtype) {
  check_cast<std::uint8_t>(DType::u8, 0, 255);
  check_cast<std::int8_t>(DType::i8, -128, 127);
  check_cast<std::uint16_t>(DType::u16, 0, 65535);
  check_cast<std::int16_t>(DType::i16, -32768, 32767);
  check_cast<std::uint32_t>(DType::u32, 0, 4e9);
  check_cast<std::int32_t>(DType::i32, -2e9, 2e9);
  check_cast<std::uint64_t>(DType::u64, 0, 1e12);
  check_cast<std::int64_t>(DType::i64, -1e12, 1e12);
  check_cast<float>(DType::f32, -100, 100);
  check_cast<double>(DType::f64, -100, 100);
}

TEST(CastOp, DefaultsAreIdentityToF32) {
  const TensorDesc desc = TensorDesc::of(DType::u8, {4, 4, 3});
  const auto in = random_values<std::uint8_t>(desc.elements(), 3);
  const auto out = from_bytes<float>(run_text("cast", desc, to_bytes(in), 1));
  for (std::size_t i = 0; i < in.size(); ++i) ASSERT_EQ(out[i], static_cast<float>(in[i]));
}

// Scalar per-channel reference: explicit loops over the layout, no shared index arithmetic.
std::vector<float> ref_channel_affine(const std::vector<float>& in, const TensorDesc& d, std::size_t n,
                                      const std::vector<float>& sub, const std::vector<float>& div) {
  std::vector<float> out(in.size());
  const std::size_t c_count = d.channel_count();
  const std::size_t per = d.elements();
  for (std::size_t s = 0; s < n; ++s) {
    for (std::size_t e = 0; e < per; ++e) {
      std::size_t c = 0;
      if (d.layout == ImageLayout::hwc) c = e % c_count;
      if (d.layout == ImageLayout::chw) c = e / (d.height() * d.width());
      if (d.layout == ImageLayout::none) c = e / (per / c_count);
      out[s * per + e] = (in[s * per + e] - sub[c]) / div[c];
    }
  }
  return out;
}

TEST(NormalizeOp, PerChannelAndBroadcast) {
  for (const auto& shape : kShapes) {
    const TensorDesc desc = TensorDesc::of(DType::f32, shape);
    const std::size_t c = desc.channels();
    std::vector<float> mean, stdev;
    std::string mean_text, std_text;
    for (std::size_t k = 0; k < c; ++k) {
      mean.push_back(0.25f * static_cast<float>(k) - 0.5f);  // exact in binary and in to_string
      stdev.push_back(0.5f + 0.125f * static_cast<float>(k));
      mean_text += (k ? ", " : "") + std::to_string(mean.back());
      std_text += (k ? ", " : "") + std::to_string(stdev.back());
    }
    const std::size_t n = 4;
    const auto in = random_values<float>(n * desc.elements(), 5, -2, 2);
    const auto out = from_bytes<float>(run_text("normalize(mean=[" + mean_text + "], std=[" + std_text + "])",
                                                desc, to_bytes(in), n, Stage::prepare));
    const auto want = ref_channel_affine(in, desc, n, mean, stdev);
    for (std::size_t i = 0; i < in.size(); ++i) ASSERT_FLOAT_EQ(out[i], want[i]) << "i=" << i;

    const auto bcast = from_bytes<float>(run_text("normalize(mean=0.5, std=[2])", desc, to_bytes(in), n));
    for (std::size_t i = 0; i < in.size(); ++i) ASSERT_FLOAT_EQ(bcast[i], (in[i] - 0.5f) / 2.0f);
  }
}

TEST(NormalizeOp, ChwAndChannelFirstVolumes) {
  // After hwc_to_chw the channel is the slowest axis of a sample.
  const TensorDesc hwc = TensorDesc::of(DType::f32, {5, 3, 3});
  const auto in = random_values<float>(2 * hwc.elements(), 9, -1, 1);
  Chain chain(parse_op_chain("hwc_to_chw | normalize(mean=[1, 2, 3], std=[4, 5, 6])", "t"), hwc,
              Stage::prepare, "x");
  const auto out = from_bytes<float>(run(chain, to_bytes(in), 2, iota_ids(2)));
  const TensorDesc chw = chain.output();
  for (std::size_t s = 0; s < 2; ++s) {
    for (std::size_t y = 0; y < 5; ++y) {
      for (std::size_t x = 0; x < 3; ++x) {
        for (std::size_t c = 0; c < 3; ++c) {
          const float v = in[((s * 5 + y) * 3 + x) * 3 + c];
          const float got = out[((s * 3 + c) * 5 + y) * 3 + x];
          ASSERT_FLOAT_EQ(got, (v - static_cast<float>(c + 1)) / static_cast<float>(c + 4));
        }
      }
    }
  }
  // CosmoFlow-style [4, W, W, W]: channel axis 0.
  const TensorDesc vol = TensorDesc::of(DType::f32, {4, 3, 5, 3});
  const auto vin = random_values<float>(3 * vol.elements(), 10, -1, 1);
  const auto vout =
      from_bytes<float>(run_text("normalize(mean=[1, 2, 3, 4], std=[1, 2, 4, 8])", vol, to_bytes(vin), 3));
  const auto want = ref_channel_affine(vin, vol, 3, {1, 2, 3, 4}, {1, 2, 4, 8});
  for (std::size_t i = 0; i < vin.size(); ++i) ASSERT_FLOAT_EQ(vout[i], want[i]);
}

TEST(MinmaxOp, PerChannel) {
  for (const auto& shape : kShapes) {
    const TensorDesc desc = TensorDesc::of(DType::f32, shape);
    const std::size_t c = desc.channels();
    std::vector<float> lo, hi;
    std::string lo_text, hi_text;
    for (std::size_t k = 0; k < c; ++k) {
      lo.push_back(-1.0f - static_cast<float>(k));
      hi.push_back(3.0f + 2.0f * static_cast<float>(k));
      lo_text += (k ? ", " : "") + std::to_string(static_cast<int>(lo.back()));
      hi_text += (k ? ", " : "") + std::to_string(static_cast<int>(hi.back()));
    }
    std::vector<float> range;
    for (std::size_t k = 0; k < c; ++k) range.push_back(hi[k] - lo[k]);
    const auto in = random_values<float>(2 * desc.elements(), 6, -5, 5);
    const auto out = from_bytes<float>(run_text("minmax(min=[" + lo_text + "], max=[" + hi_text + "])", desc,
                                                to_bytes(in), 2, Stage::prepare));
    const auto want = ref_channel_affine(in, desc, 2, lo, range);
    for (std::size_t i = 0; i < in.size(); ++i) ASSERT_FLOAT_EQ(out[i], want[i]);
  }
}

TEST(Log1pOp, MatchesStd) {
  const TensorDesc desc = TensorDesc::of(DType::f32, {4, 7, 9, 5});
  const auto in = random_values<float>(2 * desc.elements(), 8, 0, 1000);
  const auto out = from_bytes<float>(run_text("log1p", desc, to_bytes(in), 2, Stage::prepare));
  for (std::size_t i = 0; i < in.size(); ++i) ASSERT_FLOAT_EQ(out[i], std::log1p(in[i]));
}

// Reference noise: the key derivation the chain documents, Box-Muller written out in double.
float ref_noise(float x, std::uint64_t seed, std::uint64_t epoch, std::uint64_t id, std::uint64_t op_index,
                std::uint64_t element, float mean, float stdev) {
  const std::uint64_t key = hash_combine(hash_combine(hash_combine(seed, epoch), id), op_index);
  const std::uint64_t bits = hash_combine(key, element);
  const double u1 = (static_cast<double>(bits >> 40) + 1.0) / 16777216.0;
  const double u2 = static_cast<double>((bits >> 16) & 0xffffff) / 16777216.0;
  const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  return static_cast<float>(x + mean + stdev * z);
}

TEST(NoiseOp, MatchesReferenceAndMoments) {
  const TensorDesc desc = TensorDesc::of(DType::f32, {31, 17, 3});
  const std::size_t n = 5;
  const auto in = random_values<float>(n * desc.elements(), 12, -1, 1);
  Chain chain(parse_op_chain("noise(std=0.5, mean=0.25)", "t"), desc, Stage::augment, "x");
  const auto ids = iota_ids(n, 100);
  const auto out = from_bytes<float>(run(chain, to_bytes(in), n, ids, 42, 3));
  double sum = 0, sum2 = 0;
  for (std::size_t s = 0; s < n; ++s) {
    for (std::size_t e = 0; e < desc.elements(); ++e) {
      const std::size_t i = s * desc.elements() + e;
      ASSERT_NEAR(out[i], ref_noise(in[i], 42, 3, ids[s], 0, e, 0.25f, 0.5f), 2e-5) << "i=" << i;
      const double d = out[i] - in[i];
      sum += d;
      sum2 += d * d;
    }
  }
  const double count = static_cast<double>(in.size());
  const double mean = sum / count;
  EXPECT_NEAR(mean, 0.25, 0.02);
  EXPECT_NEAR(std::sqrt(sum2 / count - mean * mean), 0.5, 0.02);
}

}  // namespace
}  // namespace ferry::transform::test
