#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ferry/error.hpp"
#include "ferry/local_loader.hpp"
#include "storage/synthetic.hpp"

namespace fs = std::filesystem;
using ferry::synthetic::GenOptions;
using ferry::synthetic::Kind;

namespace {

constexpr std::uint64_t kSeed = 5;  // data seed (the files' content)

// Small datasets written once for the whole suite.
class LoaderData : public ::testing::Environment {
 public:
  static inline std::string dir;
  void SetUp() override {
    dir = (fs::path(::testing::TempDir()) / ("ferry_loader_" + std::to_string(::getpid()))).string();
    fs::create_directories(dir);
    GenOptions img;
    img.kind = Kind::image;
    img.out = dir + "/images.h5";
    img.samples = 103;
    img.seed = kSeed;
    img.height = 6;
    img.width = 5;
    img.channels = 3;
    img.chunk = 8;
    img.deflate = 1;
    ferry::synthetic::generate(img);
    GenOptions cosmo = img;
    cosmo.kind = Kind::cosmoflow;
    cosmo.out = dir + "/cosmo";
    cosmo.samples = 12;
    cosmo.cosmo_width = 4;
    cosmo.chunk = 0;
    cosmo.deflate = 0;
    ferry::synthetic::generate(cosmo);
    GenOptions vlen = img;
    vlen.kind = Kind::vlen;
    vlen.out = dir + "/vlen.h5";
    vlen.samples = 40;
    vlen.chunk = 0;
    vlen.deflate = 0;
    ferry::synthetic::generate(vlen);
    GenOptions jpeg = vlen;
    jpeg.kind = Kind::jpeg;
    jpeg.out = dir + "/jpeg.h5";
    jpeg.samples = 30;
    jpeg.width = 48;  // the longer side
    ferry::synthetic::generate(jpeg);
    jpeg.out = dir + "/jpeg_bad.h5";
    jpeg.truncate_sample = {13};
    ferry::synthetic::generate(jpeg);
  }
  void TearDown() override { fs::remove_all(dir); }
};

[[maybe_unused]] auto* const kLoaderEnv = ::testing::AddGlobalTestEnvironment(new LoaderData);

ferry::PipelineConfig image_pipeline() {
  ferry::PipelineConfig p;
  p.name = "img";
  p.seed = 99;
  p.epochs = 2;
  p.batch_size = 4;
  p.dataset.files = {LoaderData::dir + "/images.h5"};
  p.dataset.fields = {{"image", "/images"}, {"label", "/labels"}};
  return p;
}

// Every batch of every epoch of consumer c of C, copied out.
struct Delivered {
  std::uint64_t epoch, index;
  std::vector<std::uint64_t> ids;
  std::vector<std::vector<std::byte>> fields;
};

std::vector<Delivered> drain(const ferry::PipelineConfig& p, std::uint32_t c = 0,
                             std::uint32_t consumers = 1) {
  ferry::LocalLoader loader(p, c, consumers);
  std::vector<Delivered> out;
  while (const ferry::Batch* b = loader.next_batch()) {
    Delivered d{b->epoch, b->index, b->ids, {}};
    for (const auto& f : b->fields) d.fields.emplace_back(f.data, f.data + f.bytes);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace

TEST(LocalLoader, RawBytesMatchTheGenerator) {
  const auto p = image_pipeline();
  const std::size_t pixels = 6 * 5 * 3;
  for (const auto& d : drain(p)) {
    ASSERT_EQ(d.ids.size(), 4u);
    for (std::size_t i = 0; i < d.ids.size(); ++i) {
      for (std::size_t pos = 0; pos < pixels; ++pos)
        ASSERT_EQ(static_cast<std::uint8_t>(d.fields[0][i * pixels + pos]),
                  ferry::synthetic::image_value(kSeed, d.ids[i], pos))
            << "id " << d.ids[i] << " pos " << pos;
      std::int32_t label;
      std::memcpy(&label, d.fields[1].data() + i * 4, 4);
      ASSERT_EQ(label, ferry::synthetic::image_label(kSeed, d.ids[i]));
    }
  }
}

TEST(LocalLoader, ExactlyOncePerEpochAcrossConsumers) {
  auto p = image_pipeline();  // 103 samples, 3 consumers: 34 each, 8 batches of 4 (2 dropped per consumer)
  std::map<std::uint64_t, std::multiset<std::uint64_t>> per_epoch;
  for (std::uint32_t c = 0; c < 3; ++c) {
    auto batches = drain(p, c, 3);
    EXPECT_EQ(batches.size(), 2u * 8u);
    for (const auto& d : batches) per_epoch[d.epoch].insert(d.ids.begin(), d.ids.end());
  }
  ASSERT_EQ(per_epoch.size(), 2u);
  for (const auto& [epoch, ids] : per_epoch) {
    EXPECT_EQ(ids.size(), 3u * 32u);
    EXPECT_EQ(std::set<std::uint64_t>(ids.begin(), ids.end()).size(), ids.size())
        << "duplicate in epoch " << epoch;
    for (auto id : ids) EXPECT_LT(id, 103u);
  }
  EXPECT_NE(per_epoch[0], per_epoch[1]);  // a new order each epoch
}

TEST(LocalLoader, PadModeDeliversEverySample) {
  auto p = image_pipeline();
  p.drop_last = false;
  p.epochs = 1;
  p.batch_size = 5;
  std::multiset<std::uint64_t> ids;
  for (std::uint32_t c = 0; c < 2; ++c) {
    auto batches = drain(p, c, 2);
    ASSERT_EQ(batches.size(), 11u);  // 52 samples per consumer: 10 batches of 5 and one of 2
    EXPECT_EQ(batches.back().ids.size(), 2u);
    for (const auto& d : batches) ids.insert(d.ids.begin(), d.ids.end());
  }
  EXPECT_EQ(ids.size(), 104u);
  EXPECT_EQ(std::set<std::uint64_t>(ids.begin(), ids.end()).size(), 103u);
}

// A job that would deliver nothing is refused with the pipeline's name and why, not drained silently.
TEST(LocalLoader, RefusesAJobThatWouldDeliverNothing) {
  auto p = image_pipeline();
  p.batch_size = 52;  // 103 samples over 2 consumers, drop_last: shares of 51
  const auto message = [](const ferry::PipelineConfig& config) {
    try {
      ferry::LocalLoader loader(config, 0, 2);
    } catch (const ferry::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(
      message(p),
      "pipeline 'img': batch_size = 52 is larger than each consumer's share of 51 sample(s) (103 over 2 "
      "consumer(s), drop_last = true): no consumer would get a batch");
  p.drop_last = false;  // padded shares of 52 keep one batch
  EXPECT_EQ(message(p), "no error");
  p = image_pipeline();
  p.start_epoch = 2;  // a state saved after the last batch of both epochs
  EXPECT_EQ(message(p),
            "pipeline 'img': the resume position (start_epoch = 2, start_batch = 0) is the end of its 2 "
            "epoch(s): nothing is left to deliver");
}

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

TEST(LocalLoader, VariableLengthSamples) {
  ferry::PipelineConfig p;
  p.batch_size = 6;
  p.dataset.layout = ferry::Layout::vlen;
  p.dataset.files = {LoaderData::dir + "/vlen.h5"};
  p.dataset.fields = {{"bytes", "/bytes"}, {"label", "/labels"}};
  ferry::LocalLoader loader(p);
  std::size_t seen = 0;
  while (const ferry::Batch* b = loader.next_batch()) {
    const auto& f = b->field("bytes");
    ASSERT_TRUE(f.variable());
    for (std::size_t i = 0; i < b->size(); ++i, ++seen) {
      auto s = f.sample(i);
      ASSERT_EQ(s.size(), ferry::synthetic::vlen_length(kSeed, b->ids[i]));
      for (std::size_t pos = 0; pos < s.size(); ++pos)
        ASSERT_EQ(static_cast<std::uint8_t>(s[pos]), ferry::synthetic::vlen_byte(kSeed, b->ids[i], pos));
    }
  }
  EXPECT_EQ(seen, 36u);
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

TEST(LocalLoader, SeekResumesTheSameSequence) {
  const auto p = image_pipeline();
  const auto all = drain(p);
  ferry::LocalLoader loader(p);
  loader.seek(1, 3);
  std::size_t k = all.size() - (loader.batches_per_epoch() - 3);
  while (const ferry::Batch* b = loader.next_batch()) {
    ASSERT_LT(k, all.size());
    EXPECT_EQ(b->ids, all[k].ids);
    EXPECT_EQ(b->epoch, 1u);
    ++k;
  }
  EXPECT_EQ(k, all.size());
}

TEST(LocalLoader, BadSetupsAreNamed) {
  auto p = image_pipeline();
  EXPECT_THROW(ferry::LocalLoader(p, 3, 3), ferry::ConfigError);
  p.prepare = {{"image", ferry::parse_op_chain("log1p", "test")}};
  try {
    ferry::LocalLoader loader(p);
    FAIL() << "log1p on u8 accepted";
  } catch (const ferry::TransformError& e) {
    EXPECT_NE(std::string(e.what()).find("image"), std::string::npos) << e.what();
  }
  ferry::PipelineConfig v;
  v.dataset.layout = ferry::Layout::vlen;
  v.dataset.files = {LoaderData::dir + "/vlen.h5"};
  v.dataset.fields = {{"bytes", "/bytes"}};
  v.prepare = {{"bytes", ferry::parse_op_chain("cast", "test")}};
  try {
    ferry::LocalLoader loader(v);
    FAIL() << "transform on a vlen field accepted";
  } catch (const ferry::TransformError& e) {
    EXPECT_NE(std::string(e.what()).find("'bytes'"), std::string::npos) << e.what();
  }
}

TEST(LocalLoader, StateResumesTheSameSequence) {
  auto p = image_pipeline();
  p.prepare = {{"image", ferry::parse_op_chain("cast", "test")}};
  p.augment = {{"image", ferry::parse_op_chain("random_flip | noise(std=0.1)", "test")}};
  const auto all = drain(p, 1, 2);
  std::string state;
  {
    ferry::LocalLoader loader(p, 1, 2);
    for (int k = 0; k < 17; ++k) ASSERT_NE(loader.next_batch(), nullptr);
    state = loader.state();
  }
  EXPECT_EQ(state.substr(0, state.rfind(' ')), "ferry-state 1 pipeline=img seed=99 epoch=1 batch=5");
  EXPECT_EQ(state.substr(state.rfind(' ')).size(), std::string(" dataset=0123456789abcdef").size()) << state;
  ferry::Config config;
  config.pipelines = {p};
  ferry::apply_state(config, state);
  const auto rest = drain(config.pipelines[0], 1, 2);
  ASSERT_EQ(rest.size(), all.size() - 17);
  for (std::size_t k = 0; k < rest.size(); ++k) {
    EXPECT_EQ(rest[k].ids, all[17 + k].ids);
    EXPECT_EQ(rest[k].fields, all[17 + k].fields) << "batch " << 17 + k;
  }
  ferry::Config other = config;
  other.pipelines[0].seed = 1;
  EXPECT_THROW(ferry::apply_state(other, state), ferry::ConfigError);
  EXPECT_THROW(ferry::apply_state(config, "ferry-state 1 pipeline=nope seed=99 epoch=0 batch=0"),
               ferry::ConfigError);
  EXPECT_THROW(ferry::apply_state(config, "garbage"), ferry::ConfigError);
  config.pipelines[0].start_epoch = 5;
  EXPECT_THROW(ferry::LocalLoader(config.pipelines[0]), ferry::ConfigError);
}

namespace {

// A copy of images.h5 (or of the cosmo folder) that one test may change.
std::string copy_of(const std::string& name, const std::string& as) {
  const std::string to = LoaderData::dir + "/" + as;
  fs::remove_all(to);
  fs::copy(LoaderData::dir + "/" + name, to, fs::copy_options::recursive);
  return to;
}

// Moves a file's modification time a second on: rewritten in place, as a loader sees it.
void rewrite_in_place(const std::string& path) {
  fs::last_write_time(path, fs::last_write_time(path) + std::chrono::seconds(1));
}

// Takes epoch 0 of `loader`, applies `change`, and returns the message of the error the next batch throws.
std::string error_after_epoch0(ferry::LocalLoader& loader, const std::function<void()>& change) {
  for (std::uint64_t k = 0; k < loader.batches_per_epoch(); ++k)
    if (loader.next_batch() == nullptr) return "epoch 0 ended early";
  change();
  try {
    loader.next_batch();
  } catch (const ferry::DatasetError& e) {
    return e.what();
  }
  return "no DatasetError";
}

}  // namespace

TEST(LocalLoader, FileRewrittenBetweenEpochsIsNamed) {
  auto p = image_pipeline();
  p.dataset.files = {copy_of("images.h5", "rewritten.h5")};
  ferry::LocalLoader loader(p);
  const std::string msg = error_after_epoch0(loader, [&] { rewrite_in_place(p.dataset.files[0]); });
  EXPECT_NE(msg.find("pipeline 'img': dataset file " + p.dataset.files[0] +
                     " (rewritten: modified after the job opened it) changed under the running job (found at "
                     "the start of epoch 1)"),
            std::string::npos)
      << msg;
}

TEST(LocalLoader, FileOfAFolderRemovedBetweenEpochsIsNamed) {
  ferry::PipelineConfig p;
  p.name = "cosmo";
  p.epochs = 2;
  p.batch_size = 2;
  p.dataset.layout = ferry::Layout::file_per_sample;
  p.dataset.files = {copy_of("cosmo", "cosmo_removed")};
  p.dataset.fields = {{"full", "full"}};
  ferry::LocalLoader loader(p);
  std::string removed;
  const std::string msg = error_after_epoch0(loader, [&] {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(p.dataset.files[0])) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    removed = files.at(5).string();
    fs::remove(removed);
  });
  EXPECT_NE(msg.find("dataset file " + removed +
                     " (gone: No such file or directory) changed under the running job"),
            std::string::npos)
      << msg;
}

TEST(LocalLoader, StateSavedForOtherDataIsRefused) {
  auto p = image_pipeline();
  p.dataset.files = {copy_of("images.h5", "resumed.h5")};
  std::string state;
  {
    ferry::LocalLoader loader(p);
    for (int k = 0; k < 3; ++k) ASSERT_NE(loader.next_batch(), nullptr);
    state = loader.state();
  }
  ferry::Config config;
  config.pipelines = {p};
  ferry::apply_state(config, state);
  EXPECT_NO_THROW(ferry::LocalLoader(config.pipelines[0]));  // the same data: accepted
  rewrite_in_place(p.dataset.files[0]);
  try {
    ferry::LocalLoader loader(config.pipelines[0]);
    FAIL() << "a state saved for other data was accepted";
  } catch (const ferry::DatasetError& e) {
    EXPECT_NE(
        std::string(e.what()).find("pipeline 'img': the resume state was saved for another dataset than " +
                                   p.dataset.files[0]),
        std::string::npos)
        << e.what();
  }
  EXPECT_THROW(ferry::apply_state(config, "ferry-state 1 pipeline=img seed=99 epoch=0 batch=0 dataset=xyz"),
               ferry::ConfigError);
}
