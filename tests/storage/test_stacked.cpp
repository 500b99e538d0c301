// Stacked layout: exact bytes against the synthetic value functions, chunking + deflate, several files,
// coalesced reads and the chunk cache setting.
#include <cstring>
#include <numeric>

#include "storage/h5_writer.hpp"
#include "storage/stacked_dataset.hpp"
#include "storage/synthetic.hpp"
#include "storage_test_util.hpp"

namespace ferry {
namespace {

using testing::TempDir;

synthetic::GenResult make_images(const std::string& path, std::uint64_t n, std::uint64_t chunk = 0,
                                 int deflate = 0, std::uint64_t seed = 7, std::size_t height = 8,
                                 std::size_t width = 6) {
  synthetic::GenOptions o;
  o.kind = synthetic::Kind::image;
  o.out = path;
  o.samples = n;
  o.seed = seed;
  o.height = height;
  o.width = width;
  o.channels = 3;
  o.chunk = chunk;
  o.deflate = deflate;
  return synthetic::generate(o);
}

void expect_images(Dataset& ds, const std::vector<std::uint64_t>& ids, std::uint64_t seed = 7) {
  const std::size_t image = ds.field_index("image"), label = ds.field_index("label");
  const std::vector<std::byte> pixels = testing::read_field(ds, image, ids);
  const std::vector<std::byte> labels = testing::read_field(ds, label, ids);
  const std::size_t sample_bytes = ds.fields()[image].sample_bytes();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    for (std::size_t pos = 0; pos < sample_bytes; ++pos) {
      ASSERT_EQ(static_cast<std::uint8_t>(pixels[i * sample_bytes + pos]),
                synthetic::image_value(seed, ids[i], pos))
          << "sample " << ids[i] << " byte " << pos;
    }
    std::int32_t value = 0;
    std::memcpy(&value, labels.data() + i * sizeof value, sizeof value);
    EXPECT_EQ(value, synthetic::image_label(seed, ids[i]));
  }
}

TEST(Stacked, FieldsDescribeTheFile) {
  TempDir dir;
  auto spec = make_images(dir.file("img.h5"), 20).spec;
  auto ds = Dataset::open(spec);
  EXPECT_EQ(ds->size(), 20u);
  ASSERT_EQ(ds->fields().size(), 2u);
  EXPECT_EQ(ds->fields()[0].dtype, DType::u8);
  EXPECT_EQ(ds->fields()[0].shape, (std::vector<std::size_t>{8, 6, 3}));
  EXPECT_EQ(ds->fields()[0].sample_bytes(), 144u);
  EXPECT_EQ(ds->fields()[1].dtype, DType::i32);
  EXPECT_TRUE(ds->fields()[1].shape.empty());
  EXPECT_EQ(ds->fields()[1].sample_elements(), 1u);
  EXPECT_FALSE(ds->fields()[0].variable);
  EXPECT_STREQ(layout_name(Layout::stacked), "stacked");
  EXPECT_STREQ(layout_name(Layout::file_per_sample), "file_per_sample");
  EXPECT_STREQ(layout_name(Layout::vlen), "vlen");
}

TEST(Stacked, ReadsExactBytesContiguous) {
  TempDir dir;
  auto ds = Dataset::open(make_images(dir.file("img.h5"), 40).spec);
  expect_images(*ds, {0, 1, 2, 17, 20, 21, 39});
}

TEST(Stacked, ReadsExactBytesChunkedAndDeflated) {
  TempDir dir;
  auto ds = Dataset::open(make_images(dir.file("img.h5"), 50, 4, 6).spec);
  expect_images(*ds, {0, 3, 4, 5, 11, 12, 13, 14, 15, 16, 30, 49});
  std::vector<std::uint64_t> all(50);
  std::iota(all.begin(), all.end(), 0);
  expect_images(*ds, all);
}

TEST(Stacked, CoalescesConsecutiveIdsIntoOneRead) {
  TempDir dir;
  auto ds = Dataset::open(make_images(dir.file("img.h5"), 20, 4, 1).spec);
  expect_images(*ds, {3, 4, 5, 9, 10});
  // Two fields were read: each is one read of two runs ({3,4,5} and {9,10}), an H5Dread per run.
  EXPECT_EQ(ds->counters().read_calls, 2u);
  EXPECT_EQ(ds->counters().selections, 4u);
  EXPECT_EQ(ds->counters().samples, 10u);
  EXPECT_EQ(ds->counters().bytes, 5u * 144 + 5u * 4);
}

// Samples of more than 256 rows (here 24 x 20 x 3: 480 rows of 3 bytes) are read an H5Dread per run of IDs
// rather than as one union: the same bytes and counters, read from a chunked and compressed file too.
TEST(Stacked, ManyRowSamplesReadARunAtATime) {
  for (const std::uint64_t chunk : {0u, 5u}) {
    TempDir dir;
    auto ds = Dataset::open(make_images(dir.file("rows.h5"), 30, chunk, chunk ? 1 : 0, 7, 24, 20).spec);
    expect_images(*ds, {0, 3, 4, 5, 11, 12, 29});
    EXPECT_EQ(ds->counters().read_calls, 2u) << chunk;  // a read per field ...
    EXPECT_EQ(ds->counters().selections, 8u) << chunk;  // ... of 4 runs each
    EXPECT_EQ(ds->counters().samples, 14u) << chunk;
  }
}

TEST(Stacked, CountersForOneField) {
  TempDir dir;
  auto ds = Dataset::open(make_images(dir.file("img.h5"), 20).spec);
  testing::read_field(*ds, 0, {3, 4, 5, 9, 10});
  EXPECT_EQ(ds->counters().read_calls, 1u);
  EXPECT_EQ(ds->counters().selections, 2u);
  EXPECT_EQ(ds->counters().samples, 5u);
  EXPECT_EQ(ds->counters().bytes, 5u * 144);
  ds->read(0, {}, nullptr);  // nothing asked, nothing read
  EXPECT_EQ(ds->counters().read_calls, 1u);
}

TEST(Stacked, SeveralFilesConcatenate) {
  TempDir dir;
  // Same seed for all three files: file k holds the synthetic samples 0..n_k-1 at global IDs offset_k + i.
  make_images(dir.file("a.h5"), 5);
  make_images(dir.file("b.h5"), 3);
  make_images(dir.file("c.h5"), 4);
  auto ds = Dataset::open(testing::stacked_spec({dir.file("a.h5"), dir.file("b.h5"), dir.file("c.h5")},
                                                {{"image", "/images"}, {"label", "/labels"}}));
  ASSERT_EQ(ds->size(), 12u);
  const std::vector<std::uint64_t> ids = {0, 4, 5, 6, 7, 8, 11};
  const std::vector<std::byte> pixels = testing::read_field(*ds, 0, ids);
  // The read spanned three files: one H5Dread each; runs {0},{4} | {5,6,7} | {8},{11}.
  EXPECT_EQ(ds->counters().read_calls, 3u);
  EXPECT_EQ(ds->counters().selections, 5u);
  const std::uint64_t local[] = {0, 4, 0, 1, 2, 0, 3};
  for (std::size_t i = 0; i < ids.size(); ++i) {
    for (std::size_t pos = 0; pos < 144; pos += 13) {
      ASSERT_EQ(static_cast<std::uint8_t>(pixels[i * 144 + pos]), synthetic::image_value(7, local[i], pos));
    }
  }
}

TEST(Stacked, ChunkCacheSettingReachesHdf5) {
  TempDir dir;
  auto spec = make_images(dir.file("img.h5"), 16, 4, 1).spec;
  spec.chunk_cache_bytes = std::size_t{3} << 20;
  {
    auto ds = Dataset::open(spec);
    auto* stacked = dynamic_cast<storage::StackedDataset*>(ds.get());
    ASSERT_NE(stacked, nullptr);
    EXPECT_EQ(stacked->chunk_cache_bytes(0), std::size_t{3} << 20);
    expect_images(*ds, {1, 2, 3, 15});
  }
  // HDF5 shares one chunk cache among all opens of a dataset, set by the first: close before reopening.
  spec.chunk_cache_bytes = 0;  // cache off still reads correctly
  auto uncached = Dataset::open(spec);
  EXPECT_EQ(dynamic_cast<storage::StackedDataset&>(*uncached).chunk_cache_bytes(0), 0u);
  expect_images(*uncached, {0, 5, 6, 7, 8, 9, 15});
}

TEST(Stacked, ArbitraryArraysAndNestedPaths) {
  TempDir dir;
  const std::string path = dir.file("arrays.h5");
  {
    storage::H5Writer w(path);
    std::vector<float> x(6 * 2 * 2);
    std::iota(x.begin(), x.end(), 0.5f);
    const hsize_t dims[] = {6, 2, 2};
    w.write_array<float>("group/inner/x", x, dims, {2, 3});
    std::vector<std::int64_t> y = {10, -20, 30, -40, 50, -60};
    const hsize_t ydims[] = {6};
    w.write_array<std::int64_t>("/y", y, ydims);
    w.commit();
  }
  auto ds = Dataset::open(testing::stacked_spec({path}, {{"x", "group/inner/x"}, {"y", "/y"}}));
  EXPECT_EQ(ds->fields()[0].dtype, DType::f32);
  EXPECT_EQ(ds->fields()[1].dtype, DType::i64);
  std::vector<float> x(2 * 4);
  const std::uint64_t ids[] = {1, 5};
  ds->read(0, ids, reinterpret_cast<std::byte*>(x.data()));
  EXPECT_FLOAT_EQ(x[0], 4.5f);
  EXPECT_FLOAT_EQ(x[4], 20.5f);
  std::vector<std::int64_t> y(2);
  ds->read(1, ids, reinterpret_cast<std::byte*>(y.data()));
  EXPECT_EQ(y[0], -20);
  EXPECT_EQ(y[1], -60);
}

}  // namespace
}  // namespace ferry

namespace ferry {
namespace {

TEST(Stacked, ManyFilesAreOpenedPerRead) {
  testing::TempDir dir;
  std::vector<std::string> files;
  for (int k = 0; k < 70; ++k) {  // more than StackedDataset keeps open
    files.push_back(dir.file("part" + std::to_string(k) + ".h5"));
    make_images(files.back(), 2, 0, 0, 7);
  }
  auto ds = Dataset::open(testing::stacked_spec(files, {{"image", "/images"}, {"label", "/labels"}}));
  ASSERT_EQ(ds->size(), 140u);
  const std::vector<std::uint64_t> ids = {1, 2, 3, 139};
  const std::vector<std::byte> pixels = testing::read_field(*ds, 0, ids);
  EXPECT_EQ(ds->counters().read_calls, 3u);
  const std::uint64_t local[] = {1, 0, 1, 1};
  for (std::size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(static_cast<std::uint8_t>(pixels[i * 144 + 5]), synthetic::image_value(7, local[i], 5));
  }
}

TEST(Stacked, HandlesMoveAndClose) {
  storage::h5_init();
  storage::H5Space a(H5Screate(H5S_SCALAR));
  ASSERT_TRUE(a);
  const hid_t id = a.get();
  storage::H5Space b(std::move(a));
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from state is part of the contract
  EXPECT_EQ(b.get(), id);
  storage::H5Space c;
  c = std::move(b);
  EXPECT_EQ(c.get(), id);
  EXPECT_GT(H5Iis_valid(id), 0);
  c.reset();
  EXPECT_LE(H5Iis_valid(id), 0);
  // A handle holding an id HDF5 does not know logs on close instead of throwing.
  { storage::H5Space bogus(static_cast<hid_t>(123456789)); }
}

}  // namespace
}  // namespace ferry
