// LocalLoader transforms: prepare matches a scalar reference, log1p over file-per-sample data, JPEG decoding
// in prepare or augment (and a corrupt one named), and augmentation that depends on the seed and the sample,
// never on the batching.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "ferry/error.hpp"
#include "ferry/local_loader.hpp"
#include "local_loader_fixture.hpp"
#include "storage/synthetic.hpp"

using ferry::loader::test::drain;
using ferry::loader::test::image_pipeline;
using ferry::loader::test::kSeed;
using ferry::loader::test::LoaderData;

TEST(LocalLoader, PrepareMatchesScalarReference) {
  auto p = image_pipeline();
  p.epochs = 1;
  const float scale = 1.0f / 255.0f;
  p.prepare = {{"image", ferry::parse_op_chain("cast(scale=0.003921568859368563) | hwc_to_chw", "test")}};
  ferry::LocalLoader loader(p);
  const ferry::Batch* b = loader.next_batch();
  ASSERT_NE(b, nullptr);
  const auto& f = b->field("image");
  ASSERT_EQ(f.dtype, ferry::DType::f32);
  ASSERT_EQ(f.shape, (std::vector<std::size_t>{4, 3, 6, 5}));
  auto values = f.as<float>();
  for (std::size_t i = 0; i < b->size(); ++i)
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t y = 0; y < 6; ++y)
        for (std::size_t x = 0; x < 5; ++x) {
          const float expect =
              static_cast<float>(ferry::synthetic::image_value(kSeed, b->ids[i], (y * 5 + x) * 3 + c)) *
              scale;
          ASSERT_FLOAT_EQ(values[((i * 3 + c) * 6 + y) * 5 + x], expect);
        }
}

TEST(LocalLoader, CosmoflowLog1pFromFilePerSample) {
  ferry::PipelineConfig p;
  p.seed = 3;
  p.batch_size = 3;
  p.dataset.layout = ferry::Layout::file_per_sample;
  p.dataset.files = {LoaderData::dir + "/cosmo"};
  p.dataset.fields = {{"full", "full"}, {"params", "unitPar"}};
  p.prepare = {{"full", ferry::parse_op_chain("cast | log1p", "test")}};
  const std::size_t n = 4 * 4 * 4 * 4;
  std::size_t samples = 0;
  for (const auto& d : drain(p)) {
    for (std::size_t i = 0; i < d.ids.size(); ++i, ++samples) {
      const float* v = reinterpret_cast<const float*>(d.fields[0].data()) + i * n;
      for (std::size_t pos = 0; pos < n; ++pos)
        ASSERT_NEAR(v[pos],
                    std::log1p(static_cast<float>(ferry::synthetic::cosmo_value(kSeed, d.ids[i], pos))),
                    1e-6);
      const float* params = reinterpret_cast<const float*>(d.fields[1].data()) + i * 4;
      for (std::size_t k = 0; k < 4; ++k)
        ASSERT_EQ(params[k], ferry::synthetic::cosmo_param(kSeed, d.ids[i], k));
    }
  }
  EXPECT_EQ(samples, 12u);
}

ferry::PipelineConfig jpeg_pipeline(const std::string& file, const std::string& prepare,
                                    const std::string& augment) {
  ferry::PipelineConfig p;
  p.batch_size = 7;
  p.epochs = 2;
  p.dataset.layout = ferry::Layout::vlen;
  p.dataset.files = {LoaderData::dir + "/" + file};
  p.dataset.fields = {{"image", "/images"}, {"label", "/labels"}};
  if (!prepare.empty()) p.prepare = {{"image", ferry::parse_op_chain(prepare, "test")}};
  if (!augment.empty()) p.augment = {{"image", ferry::parse_op_chain(augment, "test")}};
  return p;
}

TEST(LocalLoader, DecodesJpegInPrepareOrAugment) {
  // Decode in prepare (cacheable u8) and in augment (JPEG bytes cached): deterministic tails give the same
  // bytes either way, and every sample arrives as one fixed shape.
  const std::string ops = "decode_jpeg | resize(shorter=20) | center_crop(size=16)";
  const auto a = drain(jpeg_pipeline("jpeg.h5", ops, ""));
  const auto b = drain(jpeg_pipeline("jpeg.h5", "", ops));
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    EXPECT_EQ(a[k].ids, b[k].ids);
    EXPECT_EQ(a[k].fields, b[k].fields) << "batch " << k;
    ASSERT_EQ(a[k].fields[0].size(), a[k].ids.size() * 16 * 16 * 3);
  }
  // Random ops after decode: the same bytes on a rerun.
  const std::string augment =
      "decode_jpeg | random_resized_crop(size=12) | random_flip | cast | "
      "normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])";
  const auto c = drain(jpeg_pipeline("jpeg.h5", "", augment)),
             d = drain(jpeg_pipeline("jpeg.h5", "", augment));
  ASSERT_EQ(c.size(), d.size());
  for (std::size_t k = 0; k < c.size(); ++k) EXPECT_EQ(c[k].fields, d[k].fields) << "batch " << k;
}

TEST(LocalLoader, CorruptJpegNamesFileDatasetAndSample) {
  for (const bool in_prepare : {true, false}) {
    const std::string ops = "decode_jpeg | center_crop(size=16)";
    try {
      drain(jpeg_pipeline("jpeg_bad.h5", in_prepare ? ops : "", in_prepare ? "" : ops));
      FAIL() << "no error";
    } catch (const ferry::TransformError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("jpeg_bad.h5: dataset /images, sample 13"), std::string::npos) << what;
      EXPECT_NE(what.find("field 'image': op decode_jpeg"), std::string::npos) << what;
      EXPECT_NE(what.find("corrupt JPEG"), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
}

TEST(LocalLoader, SameSeedSameBytesAndAugmentIndependentOfBatching) {
  auto p = image_pipeline();
  p.prepare = {{"image", ferry::parse_op_chain("cast", "test")}};
  p.augment = {
      {"image", ferry::parse_op_chain(
                    "random_crop(height=4, width=4, padding=1) | random_flip | noise(std=0.5)", "test")}};
  const auto a = drain(p), b = drain(p);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    EXPECT_EQ(a[k].ids, b[k].ids);
    EXPECT_EQ(a[k].fields, b[k].fields) << "batch " << k;
  }
  // The same sample augmented in another batch (other batch size, other consumer split) is bit-identical.
  auto q = p;
  q.batch_size = 3;
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::vector<std::byte>> by_id;
  const std::size_t bytes = 4 * 4 * 3 * sizeof(float);
  for (const auto& d : a)
    for (std::size_t i = 0; i < d.ids.size(); ++i)
      by_id[{d.epoch, d.ids[i]}].assign(d.fields[0].begin() + i * bytes,
                                        d.fields[0].begin() + (i + 1) * bytes);
  std::size_t compared = 0;
  for (std::uint32_t c = 0; c < 2; ++c)
    for (const auto& d : drain(q, c, 2))
      for (std::size_t i = 0; i < d.ids.size(); ++i) {
        auto it = by_id.find({d.epoch, d.ids[i]});
        if (it == by_id.end()) continue;
        ++compared;
        ASSERT_TRUE(std::equal(it->second.begin(), it->second.end(), d.fields[0].begin() + i * bytes))
            << "id " << d.ids[i];
      }
  EXPECT_GT(compared, 150u);
  // Another seed: another order.
  auto r = p;
  r.seed = 100;
  EXPECT_NE(drain(r)[0].ids, a[0].ids);
}
