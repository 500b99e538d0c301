// random_resized_crop's window against torchvision's RandomResizedCrop.get_params for the same draws (the
// fixture tests/data/torchvision_resized_crop.txt, written by tests/tools/torchvision_crop_fixture.py),
// resize(shorter) against torchvision's Resize(int) sizes, and the op's determinism per (seed, epoch, ID).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/hash.hpp"
#include "core/strings.hpp"
#include "helpers.hpp"
#include "transform/crop_box.hpp"
#include "transform/resample.hpp"

namespace ferry::transform::test {
namespace {

// torchvision's recorded draws, handed back in order; a call that does not match the record fails.
class Replay final : public CropDraws {
 public:
  explicit Replay(const std::string& draws) {
    for (const std::string& item : split(draws, ',')) events_.push_back(std::string(trim(item)));
  }
  float uniform(float lo, float hi) override {
    std::istringstream in(next('u'));
    double rlo = 0, rhi = 0, value = 0;
    in >> rlo >> rhi >> value;
    EXPECT_EQ(static_cast<float>(rlo), lo);
    EXPECT_EQ(static_cast<float>(rhi), hi);
    return static_cast<float>(value);
  }
  std::uint64_t below(std::uint64_t n) override {
    std::istringstream in(next('i'));
    std::uint64_t high = 0, value = 0;
    in >> high >> value;
    EXPECT_EQ(high, n);
    return value;
  }
  bool done() const { return at_ == events_.size(); }

 private:
  std::string next(char kind) {
    if (at_ >= events_.size()) throw std::runtime_error("more draws than torchvision made");
    const std::string& e = events_[at_++];
    if (e.empty() || e[0] != kind) throw std::runtime_error("draw of the wrong kind: " + e);
    return e.substr(2);
  }
  std::vector<std::string> events_;
  std::size_t at_ = 0;
};

TEST(RandomResizedCrop, SameWindowAsTorchvisionForTheSameDraws) {
  std::ifstream file(std::string(FERRY_TEST_DATA_DIR) + "/torchvision_resized_crop.txt");
  ASSERT_TRUE(file.good());
  std::string line;
  std::size_t cases = 0, fallbacks = 0;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto parts = split(line, ';');
    ASSERT_EQ(parts.size(), 3u) << line;
    std::istringstream head(parts[0]), tail(parts[2]);
    std::size_t h = 0, w = 0;
    CropRange range;
    head >> h >> w >> range.scale_lo >> range.scale_hi >> range.ratio_lo >> range.ratio_hi;
    CropBox want;
    tail >> want.top >> want.left >> want.height >> want.width;
    Replay draws(parts[1]);
    const CropBox got = resized_crop_box(h, w, range, draws);
    EXPECT_EQ(got, want) << line;
    EXPECT_TRUE(draws.done()) << line;
    fallbacks += parts[1].find('i') == std::string::npos;
    ++cases;
  }
  EXPECT_EQ(cases, 240u);
  EXPECT_GE(fallbacks, 40u);  // the centre fallback is covered
}

TEST(RandomResizedCrop, WindowsStayInsideAndDependOnlyOnTheKey) {
  for (std::uint64_t key = 0; key < 2000; ++key) {
    const std::size_t h = 50 + key % 400, w = 30 + (key * 7) % 500;
    KeyDraws a(key), b(key);
    const CropBox box = resized_crop_box(h, w, {}, a);
    EXPECT_EQ(box, resized_crop_box(h, w, {}, b));
    ASSERT_GE(box.height, 1u);
    ASSERT_GE(box.width, 1u);
    ASSERT_LE(box.top + box.height, h);
    ASSERT_LE(box.left + box.width, w);
  }
}

TEST(RandomResizedCrop, OpIsTheCropThenTheResize) {
  // A fixed-shape u8 input: the op equals resample() of the window its key gives.
  const TensorDesc desc = TensorDesc::of(DType::u8, {40, 30, 3});
  const std::size_t n = 3;
  const auto in = random_values<std::uint8_t>(n * desc.elements(), 5);
  Chain chain(parse_op_chain("random_resized_crop(size=12)", "t"), desc, Stage::augment, "image");
  EXPECT_EQ(chain.text(),
            "random_resized_crop(height=12, width=12, scale=[0.08, 1], ratio=[0.75, 1.3333333333333333])");
  const auto ids = iota_ids(n, 100);
  const auto out = run(chain, to_bytes(in), n, ids, 9, 2);
  const TensorDesc out_desc = TensorDesc::of(DType::u8, {12, 12, 3});
  const std::uint64_t batch_key = hash_combine(9, 2);
  for (std::size_t i = 0; i < n; ++i) {
    KeyDraws draws(hash_combine(hash_combine(batch_key, ids[i]), 0));
    const CropBox box = resized_crop_box(40, 30, {}, draws);
    std::vector<std::byte> want(out_desc.bytes());
    resample(to_bytes(in).data() + i * desc.bytes(), desc, box, want.data(), out_desc);
    EXPECT_EQ(
        std::vector<std::byte>(out.begin() + i * out_desc.bytes(), out.begin() + (i + 1) * out_desc.bytes()),
        want)
        << i;
  }
  // Another epoch draws other windows.
  EXPECT_NE(run(chain, to_bytes(in), n, ids, 9, 3), out);
}

TEST(ResizeShorter, SizesAreTorchvisionResizeInt) {
  // torchvision: the short side becomes `size`, the long one int(size * long / short).
  EXPECT_EQ(shorter_side_size(375, 500, 256), std::make_pair(std::size_t{256}, std::size_t{341}));
  EXPECT_EQ(shorter_side_size(500, 375, 256), std::make_pair(std::size_t{341}, std::size_t{256}));
  EXPECT_EQ(shorter_side_size(333, 500, 256), std::make_pair(std::size_t{256}, std::size_t{384}));
  EXPECT_EQ(shorter_side_size(100, 100, 256), std::make_pair(std::size_t{256}, std::size_t{256}));
  const TensorDesc desc = TensorDesc::of(DType::u8, {30, 40, 3});
  Chain chain(parse_op_chain("resize(shorter=15) | center_crop(size=15)", "t"), desc, Stage::prepare,
              "image");
  EXPECT_EQ(chain.text(), "resize(shorter=15) | center_crop(height=15, width=15)");
  EXPECT_EQ(chain.output(), TensorDesc::of(DType::u8, {15, 15, 3}));
}

}  // namespace
}  // namespace ferry::transform::test
