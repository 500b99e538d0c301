// The augment stage's movable head (SampleProcessor::run_head / augment_rest): the leading deterministic ops
// run apart (as a transformation rank runs them) and the rest after them (as the consumer does) give the
// bytes of the whole chain, random draws included, whether the head ends in a fixed shape or in one that
// varies per sample (decode alone); which heads are movable, and why not.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "ferry/config.hpp"
#include "loader/sample_processor.hpp"
#include "storage/synthetic.hpp"

namespace fs = std::filesystem;

namespace ferry::loader {
namespace {

class AugmentHead : public ::testing::Test {
 protected:
  static inline std::string dir;
  static void SetUpTestSuite() {
    dir = (fs::path(::testing::TempDir()) / ("ferry_head_" + std::to_string(::getpid()))).string();
    fs::create_directories(dir);
    synthetic::GenOptions jpeg;
    jpeg.kind = synthetic::Kind::jpeg;
    jpeg.out = dir + "/jpeg.h5";
    jpeg.samples = 16;
    jpeg.width = 48;  // the longer side; aspect ratios vary
    jpeg.seed = 3;
    synthetic::generate(jpeg);
    jpeg.out = dir + "/jpeg_bad.h5";
    jpeg.garbage_sample = {5};
    synthetic::generate(jpeg);
  }
  static void TearDownTestSuite() { fs::remove_all(dir); }

  static PipelineConfig pipeline(const std::string& augment, const std::string& file = "jpeg.h5") {
    PipelineConfig p;
    p.seed = 17;
    p.batch_size = 4;
    p.dataset.layout = Layout::vlen;
    p.dataset.files = {dir + "/" + file};
    p.dataset.fields = {{"image", "/images"}, {"label", "/labels"}};
    p.augment = {{"image", parse_op_chain(augment, "test")}};
    return p;
  }

  // The encoded samples `ids` of the image field, back to back, and where each starts.
  struct Encoded {
    std::vector<std::byte> bytes;
    std::vector<std::uint64_t> offsets = {0};
  };
  static Encoded read(SampleProcessor& proc, const std::vector<std::uint64_t>& ids) {
    Encoded e;
    std::vector<std::uint64_t> sizes;
    proc.dataset().read_vlen(0, ids, e.bytes, sizes);
    for (auto s : sizes) e.offsets.push_back(e.offsets.back() + s);
    return e;
  }
};

constexpr const char* kNormalize = "normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])";

// An ImageNet-style augment whose head (decode, resize, center crop) ends in a fixed shape: head on one
// side, rest on the other, for three epochs, equal the whole chain byte for byte.
TEST_F(AugmentHead, HeadThenRestIsTheWholeChain) {
  SampleProcessor proc(pipeline(std::string("decode_jpeg | resize(shorter=20) | center_crop(size=16) | "
                                            "random_crop(height=12, width=12) | random_flip | cast | ") +
                                kNormalize));
  ASSERT_TRUE(proc.head_movable()) << proc.head_why();
  EXPECT_EQ(proc.head_ops(0), 3u);
  EXPECT_EQ(proc.head_ops(1), 0u);  // the label has no augment stage
  // The head is the chain's per-sample ops: a consumer running it itself runs the chain whole (fused) and
  // times the head inside it. Not so for a head that goes on past them (cast after the crop).
  EXPECT_TRUE(proc.head_timed(0));
  SampleProcessor longer(
      pipeline("decode_jpeg | resize(shorter=20) | center_crop(size=16) | cast | random_flip"));
  EXPECT_EQ(longer.head_ops(0), 4u);
  EXPECT_FALSE(longer.head_timed(0));
  EXPECT_EQ(proc.past_head(0).shape, (std::vector<std::size_t>{16, 16, 3}));
  EXPECT_EQ(proc.past_head(1).bytes(), proc.prepared(1).bytes());
  const std::vector<std::uint64_t> ids = {0, 3, 5, 8, 13};
  const auto [bytes, offsets] = read(proc, ids);
  auto heads = proc.head_chains();
  ASSERT_TRUE(heads[0].has_value());
  EXPECT_FALSE(heads[1].has_value());
  std::vector<std::byte> mid(ids.size() * proc.past_head(0).bytes());
  proc.run_head(*heads[0], 0, bytes.data(), offsets.data(), mid.data(), ids.size(), ids.data(), nullptr);
  for (std::uint64_t epoch = 0; epoch < 3; ++epoch) {
    std::vector<std::byte> whole(ids.size() * proc.output(0).bytes()), split(whole.size());
    proc.augment_variable(0, bytes.data(), offsets.data(), whole.data(), ids.size(), ids.data(), epoch);
    proc.augment_rest(0, mid.data(), split.data(), ids.size(), ids.data(), epoch);
    EXPECT_EQ(whole, split) << "epoch " << epoch;
  }
}

// A head on fixed samples (the decoded image cached, cast and normalize first) runs with run() and still
// draws the whole chain's flips.
TEST_F(AugmentHead, AFixedHeadToo) {
  PipelineConfig p = pipeline("cast | random_flip");
  p.prepare = {{"image", parse_op_chain("decode_jpeg | resize(height=10, width=10)", "test")}};
  SampleProcessor proc(p);
  ASSERT_TRUE(proc.head_movable()) << proc.head_why();
  const std::vector<std::uint64_t> ids = {1, 2, 4, 9};
  std::vector<std::byte> prepared(ids.size() * proc.prepared(0).bytes());
  proc.read_prepared(0, ids, prepared.data());
  std::vector<std::byte> mid(ids.size() * proc.past_head(0).bytes());
  auto heads = proc.head_chains();
  proc.run_head(*heads[0], 0, prepared.data(), nullptr, mid.data(), ids.size(), ids.data(), nullptr);
  std::vector<std::byte> whole(ids.size() * proc.output(0).bytes()), split(whole.size());
  proc.augment(0, prepared.data(), whole.data(), ids.size(), ids.data(), 1);
  proc.augment_rest(0, mid.data(), split.data(), ids.size(), ids.data(), 1);
  EXPECT_EQ(whole, split);
}

// ImageNet's augment with the JPEG bytes cached: the head is decode alone, which ends in a shape that varies
// per sample. It moves too: the transformer's head gives each decoded image with its shape, the consumer's
// rest (random_resized_crop first, which takes a variable input) gives the whole chain's bytes, every epoch.
TEST_F(AugmentHead, ADecodeAloneHeadMovesWithItsShapes) {
  SampleProcessor proc(
      pipeline("decode_jpeg | random_resized_crop(size=12) | random_flip | cast(scale=0.00392156862745098) | "
               "normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])"));
  ASSERT_TRUE(proc.head_movable()) << proc.head_why();
  EXPECT_EQ(proc.head_ops(0), 1u);
  EXPECT_TRUE(proc.past_head(0).variable);
  EXPECT_EQ(proc.past_head(0).shape, (std::vector<std::size_t>{0, 0, 3}));
  std::vector<std::uint64_t> ids(16);
  for (std::uint64_t i = 0; i < ids.size(); ++i) ids[i] = i;
  const auto [bytes, offsets] = read(proc, ids);
  auto heads = proc.head_chains();
  ASSERT_TRUE(heads[0].has_value());
  transform::ShapedSamples mid;
  SampleProcessor::Skipped skipped;
  proc.run_head(*heads[0], 0, bytes.data(), offsets.data(), ids.size(), ids.data(), mid, &skipped);
  EXPECT_TRUE(skipped.empty());
  ASSERT_EQ(mid.size(), ids.size());
  // Real JPEGs of several sizes and aspect ratios, each decoded to its own shape.
  std::set<std::pair<std::size_t, std::size_t>> shapes;
  for (std::size_t i = 0; i < mid.size(); ++i) {
    const auto shape = mid.shape(i);
    EXPECT_EQ(shape[2], 3u);
    EXPECT_EQ(mid.sample(i).size(), shape[0] * shape[1] * shape[2]);
    shapes.insert({shape[0], shape[1]});
  }
  EXPECT_GE(shapes.size(), 4u);
  std::set<double> aspects;
  for (const auto& [h, w] : shapes) aspects.insert(static_cast<double>(h) / static_cast<double>(w));
  EXPECT_GE(aspects.size(), 3u);
  for (std::uint64_t epoch = 0; epoch < 3; ++epoch) {
    std::vector<std::byte> whole(ids.size() * proc.output(0).bytes()), split(whole.size());
    std::uint64_t head_ns = 0;
    proc.augment_variable(0, bytes.data(), offsets.data(), whole.data(), ids.size(), ids.data(), epoch,
                          nullptr, &head_ns);
    proc.augment_rest(0, mid.refs(), split.data(), ids.data(), epoch);
    EXPECT_EQ(whole, split) << "epoch " << epoch;
  }
}

// A JPEG the decode-alone head cannot take is skipped there (bad_samples = skip): its place in the shaped
// samples is empty, and the others are the whole chain's.
TEST_F(AugmentHead, ADecodeAloneHeadSkipsABadJpeg) {
  PipelineConfig p = pipeline("decode_jpeg | random_resized_crop(size=8) | random_flip", "jpeg_bad.h5");
  p.bad_samples = BadSamples::skip;
  SampleProcessor proc(p);
  ASSERT_TRUE(proc.head_movable()) << proc.head_why();
  const std::vector<std::uint64_t> ids = {3, 4, 5, 6};
  const auto [bytes, offsets] = read(proc, ids);
  auto heads = proc.head_chains();
  transform::ShapedSamples mid;
  SampleProcessor::Skipped skipped;
  proc.run_head(*heads[0], 0, bytes.data(), offsets.data(), ids.size(), ids.data(), mid, &skipped);
  EXPECT_EQ(skipped, (SampleProcessor::Skipped{2}));
  ASSERT_EQ(mid.size(), 4u);
  EXPECT_TRUE(mid.sample(2).empty());
  EXPECT_EQ(mid.shape(2)[0], 0u);
  EXPECT_FALSE(mid.sample(3).empty());
}

TEST_F(AugmentHead, AHeadThatIsEmptyStaysOnTheConsumer) {
  PipelineConfig p = pipeline("random_flip | cast");
  p.prepare = {{"image", parse_op_chain("decode_jpeg | resize(height=10, width=10)", "test")}};
  const SampleProcessor random_first(p);
  EXPECT_FALSE(random_first.head_movable());
  EXPECT_EQ(random_first.head_ops(0), 0u);
  EXPECT_NE(random_first.head_why().find("no field's augment stage starts"), std::string::npos);
}

}  // namespace
}  // namespace ferry::loader
