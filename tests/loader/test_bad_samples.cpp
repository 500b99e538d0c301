// bad_samples = skip in LocalLoader (docs/transforms.md, "Bad samples"): a truncated, a garbage and an empty
// JPEG are dropped from their batches, every other sample arrives exactly once per epoch with the bytes it
// has in a file without the corrupt ones, the counters say how many were dropped, and a resumed loader
// delivers what the uninterrupted one did. Also drop_samples on fixed and variable fields.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ferry/error.hpp"
#include "ferry/local_loader.hpp"
#include "loader/skipped_samples.hpp"
#include "storage/synthetic.hpp"

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kSamples = 32;
const std::set<std::uint64_t> kCorrupt = {5, 11, 20};  // truncated, garbage, empty

class BadSampleData : public ::testing::Environment {
 public:
  static inline std::string dir;
  void SetUp() override {
    dir = (fs::path(::testing::TempDir()) / ("ferry_bad_samples_" + std::to_string(::getpid()))).string();
    fs::create_directories(dir);
    ferry::synthetic::GenOptions jpeg;
    jpeg.kind = ferry::synthetic::Kind::jpeg;
    jpeg.samples = kSamples;
    jpeg.seed = 3;
    jpeg.width = 40;
    jpeg.out = dir + "/good.h5";
    ferry::synthetic::generate(jpeg);
    jpeg.out = dir + "/bad.h5";
    jpeg.truncate_sample = {5};
    jpeg.garbage_sample = {11};
    jpeg.empty_sample = {20};
    ferry::synthetic::generate(jpeg);
  }
  void TearDown() override { fs::remove_all(dir); }
};

[[maybe_unused]] auto* const kBadSampleEnv = ::testing::AddGlobalTestEnvironment(new BadSampleData);

ferry::PipelineConfig pipeline(const std::string& file, bool in_prepare, ferry::BadSamples policy) {
  ferry::PipelineConfig p;
  p.seed = 8;
  p.batch_size = 4;
  p.epochs = 2;
  p.bad_samples = policy;
  p.dataset.layout = ferry::Layout::vlen;
  p.dataset.files = {BadSampleData::dir + "/" + file};
  p.dataset.fields = {{"image", "/images"}, {"label", "/labels"}};
  const auto decode =
      ferry::parse_op_chain("decode_jpeg | resize(shorter=12) | center_crop(size=12)", "test");
  const auto augment = ferry::parse_op_chain("random_flip | cast(scale=0.5)", "test");
  if (in_prepare) {
    p.prepare = {{"image", decode}};
    p.augment = {{"image", augment}};
  } else {
    auto ops = decode;
    ops.insert(ops.end(), augment.begin(), augment.end());
    p.augment = {{"image", ops}};
  }
  return p;
}

// Per (epoch, ID): the sample's bytes of every field; the batch sizes in delivery order.
struct Drained {
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::vector<std::vector<std::byte>>> samples;
  std::vector<std::size_t> sizes;
  std::vector<std::vector<std::uint64_t>> batches;
  ferry::LocalCounters counters;
};

void drain_into(ferry::LocalLoader& loader, Drained& out) {
  while (const ferry::Batch* b = loader.next_batch()) {
    out.sizes.push_back(b->size());
    out.batches.push_back(b->ids);
    for (std::size_t i = 0; i < b->size(); ++i) {
      auto& fields = out.samples[{b->epoch, b->ids[i]}];
      EXPECT_TRUE(fields.empty()) << "epoch " << b->epoch << ": sample " << b->ids[i] << " twice";
      for (const auto& f : b->fields) {
        const std::size_t size = f.bytes / b->size();
        fields.emplace_back(f.data + i * size, f.data + (i + 1) * size);
      }
    }
  }
  out.counters = loader.counters();
}

Drained drain_pipeline(const ferry::PipelineConfig& p, std::uint32_t consumers) {
  Drained out;
  for (std::uint32_t c = 0; c < consumers; ++c) {
    ferry::LocalLoader loader(p, c, consumers);
    Drained mine;
    drain_into(loader, mine);
    for (auto& [key, fields] : mine.samples) {
      EXPECT_FALSE(out.samples.count(key)) << "sample " << key.second << " on two consumers";
      out.samples[key] = fields;
    }
    out.sizes.insert(out.sizes.end(), mine.sizes.begin(), mine.sizes.end());
    out.counters.samples += mine.counters.samples;
    out.counters.skipped += mine.counters.skipped;
  }
  return out;
}

}  // namespace

TEST(BadSamples, SkipDeliversEveryOtherSampleOnceWithItsBytes) {
  for (const bool in_prepare : {true, false}) {
    SCOPED_TRACE(in_prepare ? "decode in prepare" : "decode in augment");
    const Drained bad = drain_pipeline(pipeline("bad.h5", in_prepare, ferry::BadSamples::skip), 2);
    const Drained good = drain_pipeline(pipeline("good.h5", in_prepare, ferry::BadSamples::skip), 2);
    EXPECT_EQ(good.counters.skipped, 0u);
    EXPECT_EQ(bad.counters.skipped, 2 * kCorrupt.size());
    EXPECT_EQ(bad.counters.samples, 2 * (kSamples - kCorrupt.size()));
    EXPECT_EQ(bad.samples.size(), 2 * (kSamples - kCorrupt.size()));
    for (const auto& [key, fields] : good.samples) {
      if (kCorrupt.count(key.second)) {
        EXPECT_FALSE(bad.samples.count(key)) << "corrupt sample " << key.second << " delivered";
        continue;
      }
      ASSERT_TRUE(bad.samples.count(key)) << "epoch " << key.first << ": sample " << key.second << " missing";
      EXPECT_EQ(bad.samples.at(key), fields) << "epoch " << key.first << ": sample " << key.second;
    }
    // As many batches as without corrupt samples; those that held one are shorter by it.
    ASSERT_EQ(bad.sizes.size(), good.sizes.size());
    std::size_t short_by = 0;
    for (std::size_t k = 0; k < bad.sizes.size(); ++k) short_by += good.sizes[k] - bad.sizes[k];
    EXPECT_EQ(short_by, 2 * kCorrupt.size());
  }
}

TEST(BadSamples, FailNamesFileDatasetAndSample) {
  for (const bool in_prepare : {true, false}) {
    try {
      drain_pipeline(pipeline("bad.h5", in_prepare, ferry::BadSamples::fail), 1);
      FAIL() << "no error";
    } catch (const ferry::TransformError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("bad.h5: dataset /images, sample "), std::string::npos) << what;
      EXPECT_NE(what.find("field 'image': op decode_jpeg"), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
}

// A loader resumed at any batch of epoch 1 delivers the rest as the uninterrupted one did (same batches,
// same skips): skipping changes no batch's place in the epoch.
TEST(BadSamples, ResumeDeliversTheSameBatches) {
  const auto p = pipeline("bad.h5", true, ferry::BadSamples::skip);
  ferry::LocalLoader whole(p, 1, 2);
  Drained all;
  drain_into(whole, all);
  const std::size_t per_epoch = all.batches.size() / 2;
  for (std::size_t start = 0; start < per_epoch; ++start) {
    auto resumed_config = p;
    resumed_config.start_epoch = 1;
    resumed_config.start_batch = start;
    ferry::LocalLoader resumed(resumed_config, 1, 2);
    Drained rest;
    drain_into(resumed, rest);
    ASSERT_EQ(rest.batches.size(), per_epoch - start);
    for (std::size_t k = 0; k < rest.batches.size(); ++k)
      EXPECT_EQ(rest.batches[k], all.batches[per_epoch + start + k]) << "from batch " << start;
  }
}

TEST(BadSamples, DropSamplesCompactsFixedAndVariableFields) {
  // Four samples: a fixed field of 2 bytes each and a variable one of lengths 1, 0, 3, 2.
  std::vector<std::byte> fixed(8), variable(6);
  for (std::size_t i = 0; i < fixed.size(); ++i) fixed[i] = std::byte(i);
  for (std::size_t i = 0; i < variable.size(); ++i) variable[i] = std::byte(100 + i);
  std::vector<std::vector<std::uint64_t>> offsets = {{}, {0, 1, 1, 4, 6}};
  ferry::Batch batch;
  batch.ids = {10, 11, 12, 13};
  batch.fields.resize(2);
  batch.fields[0] = {"a", ferry::DType::u8, {4, 2}, fixed.data(), 8, nullptr, nullptr};
  batch.fields[1] = {"b", ferry::DType::u8, {4}, variable.data(), 6, offsets[1].data(), nullptr};
  std::vector<std::byte*> writable = {fixed.data(), variable.data()};
  std::vector<std::size_t> drop = {2, 0, 2};
  EXPECT_EQ(ferry::loader::drop_samples(batch, drop, writable, offsets), 2u);
  EXPECT_EQ(batch.ids, (std::vector<std::uint64_t>{11, 13}));
  EXPECT_EQ(batch.fields[0].shape, (std::vector<std::size_t>{2, 2}));
  ASSERT_EQ(batch.fields[0].bytes, 4u);
  EXPECT_EQ(fixed[0], std::byte(2));
  EXPECT_EQ(fixed[3], std::byte(7));
  EXPECT_EQ(batch.fields[1].shape, (std::vector<std::size_t>{2}));
  ASSERT_EQ(batch.fields[1].bytes, 2u);
  EXPECT_EQ(offsets[1], (std::vector<std::uint64_t>{0, 0, 2}));
  EXPECT_EQ(variable[0], std::byte(104));
  EXPECT_EQ(variable[1], std::byte(105));
  // Every sample dropped: an empty batch, still a batch.
  std::vector<std::size_t> rest = {0, 1};
  EXPECT_EQ(ferry::loader::drop_samples(batch, rest, writable, offsets), 2u);
  EXPECT_EQ(batch.size(), 0u);
  EXPECT_EQ(batch.fields[0].bytes, 0u);
  EXPECT_EQ(offsets[1], (std::vector<std::uint64_t>{0}));
}
