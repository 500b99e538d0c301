// Bad input, datasets: every case throws DatasetError with a one-line message naming the culprit file and
// dataset: sample counts, shapes and dtypes that disagree, a dataset of no samples or no dimensions, sample
// IDs out of range or out of order, and fields missing, named twice or unknown.
#include <filesystem>
#include <string>
#include <vector>

#include "small_images.hpp"
#include "storage/h5_writer.hpp"
#include "storage_test_util.hpp"

namespace ferry {
namespace {

using testing::open_error;
using testing::stacked_spec;
using testing::TempDir;

// A file holding /a [na] and /b [nb] of int32.
std::string make_pair(const TempDir& dir, const std::string& name, hsize_t na, hsize_t nb) {
  storage::H5Writer w(dir.file(name));
  std::vector<std::int32_t> a(na), b(nb);
  const hsize_t da[] = {na}, db[] = {nb};
  w.write_array<std::int32_t>("/a", a, da);
  w.write_array<std::int32_t>("/b", b, db);
  w.commit();
  return dir.file(name);
}

TEST(Errors, SampleCountsDiffer) {
  TempDir dir;
  const std::string file = make_pair(dir, "pair.h5", 10, 9);
  const std::string msg = open_error(stacked_spec({file}, {{"a", "/a"}, {"b", "/b"}}));
  FERRY_EXPECT_NAMES(msg, "pair.h5", "/a", "/b", "10", "9");
}

TEST(Errors, SampleCountsDifferInALaterFile) {
  TempDir dir;
  const std::string good = make_pair(dir, "good.h5", 5, 5);
  const std::string bad = make_pair(dir, "bad.h5", 5, 6);
  const std::string msg = open_error(stacked_spec({good, bad}, {{"a", "/a"}, {"b", "/b"}}));
  FERRY_EXPECT_NAMES(msg, "bad.h5", "/a", "/b");
}

TEST(Errors, EmptyDataset) {
  TempDir dir;
  const std::string file = make_pair(dir, "empty.h5", 0, 0);
  const std::string msg = open_error(stacked_spec({file}, {{"a", "/a"}}));
  FERRY_EXPECT_NAMES(msg, "empty.h5", "/a", "0 samples");
}

TEST(Errors, SampleIdOutOfRange) {
  TempDir dir;
  auto ds = Dataset::open(stacked_spec({write_images(dir, "img.h5", 10)}, kImageFields));
  std::vector<std::byte> out(64);
  const std::uint64_t ids[] = {3, 10};
  const std::string msg = testing::dataset_error([&] { ds->read(1, ids, out.data()); });
  FERRY_EXPECT_NAMES(msg, "img.h5", "/labels", "ID 10", "10 samples");
}

TEST(Errors, UnsortedIds) {
  TempDir dir;
  auto ds = Dataset::open(stacked_spec({write_images(dir, "img.h5", 10)}, kImageFields));
  std::vector<std::byte> out(1024);
  const std::uint64_t ids[] = {5, 2};
  const std::string msg = testing::dataset_error([&] { ds->read(0, ids, out.data()); });
  FERRY_EXPECT_NAMES(msg, "img.h5", "/images", "strictly increasing", "2");
  EXPECT_EQ(ds->counters().read_calls, 0u);
}

TEST(Errors, DuplicateIds) {
  TempDir dir;
  auto ds = Dataset::open(stacked_spec({write_images(dir, "img.h5", 10)}, kImageFields));
  std::vector<std::byte> out(1024);
  const std::uint64_t ids[] = {1, 4, 4};
  const std::string msg = testing::dataset_error([&] { ds->read(1, ids, out.data()); });
  FERRY_EXPECT_NAMES(msg, "img.h5", "/labels", "4");
}

TEST(Errors, ZeroDimensionalDatasetInStackedLayout) {
  TempDir dir;
  storage::H5Writer w(dir.file("scalar.h5"));
  std::vector<double> one = {2.5};
  w.write_array<double>("/mean", one, {});
  w.commit();
  const std::string msg = open_error(stacked_spec({dir.file("scalar.h5")}, {{"mean", "/mean"}}));
  FERRY_EXPECT_NAMES(msg, "scalar.h5", "/mean", "zero-dimensional");
}

TEST(Errors, VlenLayoutFirstFieldNotVlen) {
  TempDir dir;
  const std::string file = write_images(dir, "img.h5");
  const std::string msg = open_error(stacked_spec({file}, {{"bytes", "/labels"}}, Layout::vlen));
  FERRY_EXPECT_NAMES(msg, "img.h5", "/labels", "variable-length uint8");
}

TEST(Errors, LaterStackedFileWithOtherShape) {
  TempDir dir;
  const std::string a = write_images(dir, "a.h5", 5, 4);
  const std::string b = write_images(dir, "b.h5", 5, 5);
  const std::string msg = open_error(stacked_spec({a, b}, kImageFields));
  FERRY_EXPECT_NAMES(msg, "b.h5", "/images", "[5, 4, 1]", "[4, 4, 1]");
}

TEST(Errors, LaterFilePerSampleFileWithOtherDtype) {
  TempDir dir;
  std::filesystem::create_directory(dir.file("samples"));
  for (int i = 0; i < 2; ++i) {
    storage::H5Writer w(dir.file("samples/s" + std::to_string(i) + ".h5"));
    const hsize_t dims[] = {3};
    if (i == 0) {
      w.write_array<float>("x", std::vector<float>(3), dims);
    } else {
      w.write_array<double>("x", std::vector<double>(3), dims);
    }
    w.commit();
  }
  DatasetSpec spec;
  spec.layout = Layout::file_per_sample;
  spec.files = {dir.file("samples")};
  spec.fields = {{"x", "x"}};
  auto ds = Dataset::open(spec);
  std::vector<std::byte> out(64);
  const std::uint64_t ids[] = {1};
  const std::string msg = testing::dataset_error([&] { ds->read(0, ids, out.data()); });
  FERRY_EXPECT_NAMES(msg, "s1.h5", "x", "f64", "f32");
}

TEST(Errors, SpecWithNoFields) {
  TempDir dir;
  const std::string file = write_images(dir, "img.h5");
  FERRY_EXPECT_NAMES(open_error(stacked_spec({file}, {})), "img.h5", "no fields");
}

TEST(Errors, DuplicateFieldNames) {
  TempDir dir;
  const std::string file = write_images(dir, "img.h5");
  const std::string msg = open_error(stacked_spec({file}, {{"x", "/images"}, {"x", "/labels"}}));
  FERRY_EXPECT_NAMES(msg, "img.h5", "'x'", "/images", "/labels");
}

TEST(Errors, UnknownFieldName) {
  TempDir dir;
  auto ds = Dataset::open(stacked_spec({write_images(dir, "img.h5")}, kImageFields));
  EXPECT_EQ(ds->field_index("label"), 1u);
  const std::string msg = testing::dataset_error([&] { ds->field_index("mask"); });
  FERRY_EXPECT_NAMES(msg, "'mask'", "image, label");
}

}  // namespace
}  // namespace ferry
