// ferry-import images: an ImageFolder directory becomes a vlen file whose samples are the files' bytes, in
// torchvision's order (sorted classes, sorted paths), labelled with their class index; ferry-gen jpeg
// writes decodable photos of ImageNet-like sizes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "ferry/dataset.hpp"
#include "ferry/error.hpp"
#include "storage/image_folder.hpp"
#include "storage/jpeg_encoder.hpp"
#include "storage/synthetic.hpp"

namespace fs = std::filesystem;

namespace ferry::storage {
namespace {

class ImageFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::path(::testing::TempDir()) / ("ferry_folder_" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::uint8_t> write(const std::string& rel, std::size_t h, std::size_t w) {
    std::vector<std::uint8_t> pixels(h * w * 3);
    synthetic::photo_pixels(1, h * w, {h, w}, pixels.data());
    const auto bytes = JpegEncoder().encode(pixels.data(), h, w, 3, 90);
    const fs::path path = fs::path(dir_) / "in" / rel;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return bytes;
  }

  std::string dir_;
};

TEST_F(ImageFolderTest, ImportsInImageFolderOrderWithLabels) {
  const auto dog_b = write("dog/b.jpg", 10, 12);
  const auto cat_z = write("cat/z.JPEG", 8, 8);
  const auto dog_a = write("dog/a/x.jpg", 9, 7);  // any depth below the class directory
  const auto cat_a = write("cat/a.jpg", 6, 5);
  std::ofstream(fs::path(dir_) / "in" / "cat" / "notes.txt") << "not an image";
  const std::string out = dir_ + "/images.h5";
  const ImportResult r = import_image_folder(dir_ + "/in", out, {});
  EXPECT_EQ(r.samples, 4u);
  auto ds = Dataset::open(r.spec);
  std::vector<std::byte> bytes;
  std::vector<std::uint64_t> sizes;
  const std::vector<std::uint64_t> ids{0, 1, 2, 3};
  ds->read_vlen(0, ids, bytes, sizes);
  std::vector<std::int32_t> labels(4);
  ds->read(1, ids, reinterpret_cast<std::byte*>(labels.data()));
  EXPECT_EQ(labels, (std::vector<std::int32_t>{0, 0, 1, 1}));
  std::size_t at = 0;
  for (const auto* want : {&cat_a, &cat_z, &dog_a, &dog_b}) {
    ASSERT_LT(at, bytes.size());
    ASSERT_EQ(
        std::vector<std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.data()) + at,
                                  reinterpret_cast<const std::uint8_t*>(bytes.data()) + at + want->size()),
        *want);
    at += want->size();
  }
  EXPECT_EQ(at, bytes.size());
}

TEST_F(ImageFolderTest, EmptyOrMissingFolderIsOneLine) {
  EXPECT_THROW(scan_image_folder(dir_ + "/none"), DatasetError);
  fs::create_directories(dir_ + "/in/cat");
  try {
    scan_image_folder(dir_ + "/in");
    FAIL();
  } catch (const DatasetError& e) {
    EXPECT_NE(std::string(e.what()).find("no .jpg, .jpeg or .png files"), std::string::npos) << e.what();
  }
}

TEST(SyntheticJpeg, PhotoSizesAreImageNetLike) {
  std::size_t landscape = 0;
  for (std::uint64_t id = 0; id < 400; ++id) {
    const auto s = synthetic::photo_size(0, id, 500);
    const std::size_t longer = std::max(s.height, s.width), shorter = std::min(s.height, s.width);
    ASSERT_GE(longer, 400u);
    ASSERT_LE(longer, 500u);
    ASSERT_GE(shorter * 100, longer * 60 - 100);
    landscape += s.width >= s.height;
  }
  EXPECT_GT(landscape, 250u);
  EXPECT_LT(landscape, 350u);
}

}  // namespace
}  // namespace ferry::storage
