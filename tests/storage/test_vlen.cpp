// vlen layout: variable-length encoded bytes next to fixed-size fields.
#include <cstring>

#include "storage/synthetic.hpp"
#include "storage_test_util.hpp"

namespace ferry {
namespace {

using testing::TempDir;

synthetic::GenResult make_vlen(const std::string& path, std::uint64_t n, std::uint64_t chunk = 0,
                               int deflate = 0) {
  synthetic::GenOptions o;
  o.kind = synthetic::Kind::vlen;
  o.out = path;
  o.samples = n;
  o.seed = 11;
  o.chunk = chunk;
  o.deflate = deflate;
  return synthetic::generate(o);
}

void expect_vlen(Dataset& ds, const std::vector<std::uint64_t>& ids, std::uint64_t id_base = 0) {
  std::vector<std::byte> bytes(3);  // read_vlen appends: keep what was there
  std::vector<std::uint64_t> sizes;
  ds.read_vlen(0, ids, bytes, sizes);
  ASSERT_EQ(sizes.size(), ids.size());
  std::size_t at = 3;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::uint64_t id = ids[i] - id_base;
    ASSERT_EQ(sizes[i], synthetic::vlen_length(11, id));
    for (std::uint64_t pos = 0; pos < sizes[i]; ++pos) {
      ASSERT_EQ(static_cast<std::uint8_t>(bytes[at + pos]), synthetic::vlen_byte(11, id, pos));
    }
    at += sizes[i];
  }
  EXPECT_EQ(at, bytes.size());
}

TEST(Vlen, FieldsAndExactBytes) {
  TempDir dir;
  auto ds = Dataset::open(make_vlen(dir.file("v.h5"), 30).spec);
  EXPECT_EQ(ds->size(), 30u);
  EXPECT_TRUE(ds->fields()[0].variable);
  EXPECT_EQ(ds->fields()[0].dtype, DType::u8);
  EXPECT_TRUE(ds->fields()[0].shape.empty());
  EXPECT_FALSE(ds->fields()[1].variable);
  expect_vlen(*ds, {0, 1, 2, 10, 29});
  EXPECT_EQ(ds->counters().read_calls, 1u);
  EXPECT_EQ(ds->counters().selections, 3u);

  std::vector<std::int32_t> labels(2);
  const std::uint64_t ids[] = {4, 29};
  ds->read(1, ids, reinterpret_cast<std::byte*>(labels.data()));
  EXPECT_EQ(labels[0], synthetic::vlen_label(11, 4));
  EXPECT_EQ(labels[1], synthetic::vlen_label(11, 29));
}

TEST(Vlen, ChunkedAndDeflated) {
  TempDir dir;
  auto ds = Dataset::open(make_vlen(dir.file("v.h5"), 40, 8, 5).spec);
  expect_vlen(*ds, {0, 7, 8, 9, 23, 39});
}

TEST(Vlen, LengthsVary) {
  std::uint64_t shortest = ~0ull, longest = 0;
  for (std::uint64_t id = 0; id < 200; ++id) {
    const std::uint64_t n = synthetic::vlen_length(3, id);
    shortest = std::min(shortest, n);
    longest = std::max(longest, n);
  }
  EXPECT_GE(shortest, synthetic::kVlenMinBytes);
  EXPECT_LE(longest, synthetic::kVlenMaxBytes);
  EXPECT_GT(longest - shortest, 2000u);
}

TEST(Vlen, SeveralFiles) {
  TempDir dir;
  make_vlen(dir.file("a.h5"), 4);
  make_vlen(dir.file("b.h5"), 6);
  auto ds = Dataset::open(testing::stacked_spec({dir.file("a.h5"), dir.file("b.h5")},
                                                {{"bytes", "/bytes"}, {"label", "/labels"}}, Layout::vlen));
  EXPECT_EQ(ds->size(), 10u);
  expect_vlen(*ds, {5, 6, 9}, 4);
}

TEST(Vlen, WrongReadFunctionNamesTheField) {
  TempDir dir;
  const std::string path = dir.file("v.h5");
  auto ds = Dataset::open(make_vlen(path, 5).spec);
  std::vector<std::byte> out(64);
  const std::uint64_t ids[] = {1};
  std::string msg = testing::dataset_error([&] { ds->read(0, ids, out.data()); });
  FERRY_EXPECT_NAMES(msg, "v.h5", "/bytes", "read_vlen");
  std::vector<std::uint64_t> sizes;
  msg = testing::dataset_error([&] { ds->read_vlen(1, ids, out, sizes); });
  FERRY_EXPECT_NAMES(msg, "v.h5", "/labels", "'label'");
}

}  // namespace
}  // namespace ferry
