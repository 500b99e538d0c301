// IDX import (ferry-import idx): tiny files written here, plain and gzip, plus Fashion-MNIST when installed.
#include <zlib.h>

#include <fstream>

#include "storage/idx.hpp"
#include "storage_test_util.hpp"

namespace ferry {
namespace {

using testing::TempDir;

std::vector<std::uint8_t> idx_bytes(std::uint8_t rank, const std::vector<std::uint32_t>& dims,
                                    const std::vector<std::uint8_t>& data) {
  std::vector<std::uint8_t> out = {0, 0, 0x08, rank};
  for (std::uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(d >> shift));
  }
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

void write_plain(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void write_gzip(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

// Three 2x3 images with pixel value 10 * image + position, labels 7, 8, 9.
struct TinyIdx {
  std::vector<std::uint8_t> images, labels;
  TinyIdx() {
    std::vector<std::uint8_t> pixels;
    for (int i = 0; i < 3; ++i) {
      for (int p = 0; p < 6; ++p) pixels.push_back(static_cast<std::uint8_t>(10 * i + p));
    }
    images = idx_bytes(3, {3, 2, 3}, pixels);
    labels = idx_bytes(1, {3}, {7, 8, 9});
  }
};

void expect_tiny(const std::string& out) {
  auto ds = Dataset::open(testing::stacked_spec({out}, {{"image", "/images"}, {"label", "/labels"}}));
  ASSERT_EQ(ds->size(), 3u);
  EXPECT_EQ(ds->fields()[0].shape, (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(ds->fields()[1].dtype, DType::u8);
  const std::vector<std::byte> img = testing::read_field(*ds, 0, {2});
  EXPECT_EQ(static_cast<int>(img[4]), 24);
  const std::vector<std::byte> lab = testing::read_field(*ds, 1, {0, 1, 2});
  EXPECT_EQ(static_cast<int>(lab[0]), 7);
  EXPECT_EQ(static_cast<int>(lab[2]), 9);
}

TEST(Idx, ImportsPlainFiles) {
  TempDir dir;
  TinyIdx tiny;
  write_plain(dir.file("img-idx3-ubyte"), tiny.images);
  write_plain(dir.file("lab-idx1-ubyte"), tiny.labels);
  const auto r =
      storage::import_idx(dir.file("img-idx3-ubyte"), dir.file("lab-idx1-ubyte"), dir.file("out.h5"), {});
  EXPECT_EQ(r.samples, 3u);
  expect_tiny(dir.file("out.h5"));
}

TEST(Idx, ImportsGzipFilesChunkedAndDeflated) {
  TempDir dir;
  TinyIdx tiny;
  write_gzip(dir.file("img.gz"), tiny.images);
  write_gzip(dir.file("lab.gz"), tiny.labels);
  storage::import_idx(dir.file("img.gz"), dir.file("lab.gz"), dir.file("out.h5"), {2, 5});
  expect_tiny(dir.file("out.h5"));
}

TEST(Idx, BadMagic) {
  TempDir dir;
  TinyIdx tiny;
  tiny.images[2] = 0x0d;  // float data: not ours
  write_plain(dir.file("bad-magic"), tiny.images);
  const std::string msg = testing::dataset_error([&] { storage::read_idx(dir.file("bad-magic"), 3); });
  FERRY_EXPECT_NAMES(msg, "bad-magic", "magic");
}

TEST(Idx, WrongRank) {
  TempDir dir;
  TinyIdx tiny;
  write_plain(dir.file("labels-as-images"), tiny.labels);
  const std::string msg = testing::dataset_error([&] { storage::read_idx(dir.file("labels-as-images"), 3); });
  FERRY_EXPECT_NAMES(msg, "labels-as-images", "1 dimensions", "expected 3");
}

TEST(Idx, TruncatedData) {
  TempDir dir;
  TinyIdx tiny;
  tiny.images.resize(tiny.images.size() - 4);
  write_gzip(dir.file("short.gz"), tiny.images);
  const std::string msg = testing::dataset_error([&] { storage::read_idx(dir.file("short.gz"), 3); });
  FERRY_EXPECT_NAMES(msg, "short.gz", "truncated", "18", "14");
}

TEST(Idx, CountMismatch) {
  TempDir dir;
  TinyIdx tiny;
  write_plain(dir.file("img"), tiny.images);
  write_plain(dir.file("lab"), idx_bytes(1, {2}, {1, 2}));
  const std::string msg = testing::dataset_error(
      [&] { storage::import_idx(dir.file("img"), dir.file("lab"), dir.file("out.h5"), {}); });
  FERRY_EXPECT_NAMES(msg, "lab", "2 labels", "3 images");
  EXPECT_FALSE(std::filesystem::exists(dir.file("out.h5")));
}

TEST(Idx, MissingFile) {
  TempDir dir;
  const std::string msg = testing::dataset_error([&] { storage::read_idx(dir.file("nope.gz"), 1); });
  FERRY_EXPECT_NAMES(msg, "nope.gz");
}

TEST(Idx, FashionMnistTestSet) {
  const std::string images = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
  const std::string labels = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz";
  if (!std::filesystem::exists(images) || !std::filesystem::exists(labels))
    GTEST_SKIP() << "no Fashion-MNIST";
  TempDir dir;
  const auto r = storage::import_idx(images, labels, dir.file("fm.h5"), {1000, 1});
  ASSERT_EQ(r.samples, 10000u);
  // The raw label file: 8 header bytes, then one byte per sample.
  gzFile raw = gzopen(labels.c_str(), "rb");
  ASSERT_NE(raw, nullptr);
  std::uint8_t head[8 + 16] = {};
  ASSERT_EQ(gzread(raw, head, sizeof head), static_cast<int>(sizeof head));
  gzclose(raw);
  auto ds = Dataset::open(r.spec);
  EXPECT_EQ(ds->fields()[0].shape, (std::vector<std::size_t>{28, 28}));
  std::vector<std::uint64_t> ids(16);
  for (std::uint64_t i = 0; i < 16; ++i) ids[i] = i;
  const std::vector<std::byte> got = testing::read_field(*ds, 1, ids);
  for (std::size_t i = 0; i < 16; ++i)
    EXPECT_EQ(static_cast<std::uint8_t>(got[i]), head[8 + i]) << "label " << i;
  EXPECT_EQ(testing::read_field(*ds, 0, {9999}).size(), 784u);
}

}  // namespace
}  // namespace ferry
