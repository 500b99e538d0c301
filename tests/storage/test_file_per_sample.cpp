// file_per_sample layout: CosmoFlow- and DeepCAM-shaped directories, list files and explicit file lists.
#include <cstring>
#include <fstream>

#include "storage/file_per_sample_dataset.hpp"
#include "storage/h5_writer.hpp"
#include "storage/synthetic.hpp"
#include "storage_test_util.hpp"

namespace ferry {
namespace {

using testing::TempDir;

synthetic::GenResult make_cosmo(const std::string& dir, std::uint64_t n, std::size_t width = 4) {
  synthetic::GenOptions o;
  o.kind = synthetic::Kind::cosmoflow;
  o.out = dir;
  o.samples = n;
  o.seed = 5;
  o.cosmo_width = width;
  return synthetic::generate(o);
}

TEST(FilePerSample, CosmoflowDirectory) {
  TempDir dir;
  auto spec = make_cosmo(dir.file("cosmo"), 6).spec;
  auto ds = Dataset::open(spec);
  EXPECT_EQ(ds->size(), 6u);
  EXPECT_EQ(ds->fields()[0].dtype, DType::i16);
  EXPECT_EQ(ds->fields()[0].shape, (std::vector<std::size_t>{4, 4, 4, 4}));
  EXPECT_EQ(ds->fields()[1].dtype, DType::f32);
  EXPECT_EQ(ds->fields()[1].shape, (std::vector<std::size_t>{4}));

  const std::vector<std::uint64_t> ids = {1, 2, 5};
  std::vector<std::int16_t> full(ids.size() * 256);
  ds->read(0, ids, reinterpret_cast<std::byte*>(full.data()));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    for (std::size_t pos = 0; pos < 256; ++pos) {
      ASSERT_EQ(full[i * 256 + pos], synthetic::cosmo_value(5, ids[i], pos));
      ASSERT_GE(full[i * 256 + pos], 0);
      ASSERT_LE(full[i * 256 + pos], 200);
    }
  }
  std::vector<float> params(ids.size() * 4);
  ds->read(1, ids, reinterpret_cast<std::byte*>(params.data()));
  EXPECT_EQ(params[4 + 3], synthetic::cosmo_param(5, 2, 3));
  EXPECT_EQ(ds->counters().read_calls, 6u);  // one file, one read per sample and field
  EXPECT_EQ(ds->counters().samples, 6u);
}

TEST(FilePerSample, DeepcamDirectoryChunkedAndDeflated) {
  TempDir dir;
  synthetic::GenOptions o;
  o.kind = synthetic::Kind::deepcam;
  o.out = dir.file("deepcam");
  o.samples = 3;
  o.seed = 9;
  o.height = 6;
  o.width = 10;
  o.chunk = 2;
  o.deflate = 4;
  auto ds = Dataset::open(synthetic::generate(o).spec);
  ASSERT_EQ(ds->fields()[0].shape, (std::vector<std::size_t>{6, 10, 16}));
  EXPECT_EQ(ds->fields()[1].shape, (std::vector<std::size_t>{6, 10}));
  EXPECT_EQ(ds->fields()[1].dtype, DType::i32);
  std::vector<float> data(960);
  const std::uint64_t id[] = {2};
  ds->read(0, id, reinterpret_cast<std::byte*>(data.data()));
  for (std::size_t pos = 0; pos < data.size(); ++pos)
    ASSERT_EQ(data[pos], synthetic::deepcam_value(9, 2, pos));
  std::vector<std::int32_t> labels(60);
  ds->read(1, id, reinterpret_cast<std::byte*>(labels.data()));
  for (std::size_t pos = 0; pos < labels.size(); ++pos) {
    ASSERT_EQ(labels[pos], synthetic::deepcam_label(9, 2, pos));
    ASSERT_TRUE(labels[pos] >= 0 && labels[pos] <= 2);
  }
}

TEST(FilePerSample, ListFileWithCommentsAndRelativePaths) {
  TempDir dir;
  make_cosmo(dir.file("cosmo"), 4);
  {
    std::ofstream list(dir.file("samples.txt"));
    list << "# validation subset\n\n"
         << "cosmo/" << synthetic::sample_file_name(3, 4) << "\n"
         << "  cosmo/" << synthetic::sample_file_name(1, 4) << "  \n"
         << "# trailing comment\n";
  }
  DatasetSpec spec;
  spec.layout = Layout::file_per_sample;
  spec.files = {dir.file("samples.txt")};
  spec.fields = {{"full", "full"}};
  auto ds = Dataset::open(spec);
  ASSERT_EQ(ds->size(), 2u);
  std::vector<std::int16_t> full(2 * 256);
  const std::uint64_t ids[] = {0, 1};
  ds->read(0, ids, reinterpret_cast<std::byte*>(full.data()));
  EXPECT_EQ(full[7], synthetic::cosmo_value(5, 3, 7));
  EXPECT_EQ(full[256 + 9], synthetic::cosmo_value(5, 1, 9));
}

TEST(FilePerSample, ExplicitFilesKeepTheirOrder) {
  TempDir dir;
  make_cosmo(dir.file("cosmo"), 3);
  DatasetSpec spec;
  spec.layout = Layout::file_per_sample;
  for (std::uint64_t id : {2, 0})
    spec.files.push_back(dir.file("cosmo/" + synthetic::sample_file_name(id, 3)));
  spec.fields = {{"params", "/unitPar"}};
  auto ds = Dataset::open(spec);
  ASSERT_EQ(ds->size(), 2u);
  float params[8];
  const std::uint64_t ids[] = {0, 1};
  ds->read(0, ids, reinterpret_cast<std::byte*>(params));
  EXPECT_EQ(params[0], synthetic::cosmo_param(5, 2, 0));
  EXPECT_EQ(params[4], synthetic::cosmo_param(5, 0, 0));
}

TEST(FilePerSample, DirectoryIgnoresOtherFilesAndSortsByName) {
  TempDir dir;
  make_cosmo(dir.file("cosmo"), 3);
  std::ofstream(dir.file("cosmo/README.txt")) << "not a sample\n";
  DatasetSpec spec;
  spec.layout = Layout::file_per_sample;
  spec.files = {dir.file("cosmo")};
  spec.fields = {{"full", "full"}};
  auto ds = Dataset::open(spec);
  auto& fps = dynamic_cast<storage::FilePerSampleDataset&>(*ds);
  ASSERT_EQ(fps.files().size(), 3u);
  EXPECT_LT(fps.files()[0], fps.files()[1]);
  EXPECT_LT(fps.files()[1], fps.files()[2]);
}

TEST(FilePerSample, LaterFileWithOtherShapeFailsWhenRead) {
  TempDir dir;
  make_cosmo(dir.file("cosmo"), 3);
  // Replace sample 2 with a cube of edge 3: open() does not look inside it, read() does.
  const std::string odd = dir.file("cosmo/" + synthetic::sample_file_name(2, 3));
  {
    storage::H5Writer w(odd);
    std::vector<std::int16_t> small(4 * 27);
    const hsize_t dims[] = {4, 3, 3, 3};
    w.write_array<std::int16_t>("full", small, dims);
    w.commit();
  }
  DatasetSpec spec;
  spec.layout = Layout::file_per_sample;
  spec.files = {dir.file("cosmo")};
  spec.fields = {{"full", "full"}};
  auto ds = Dataset::open(spec);
  std::vector<std::int16_t> out(3 * 256);
  const std::uint64_t good[] = {0, 1};
  ds->read(0, good, reinterpret_cast<std::byte*>(out.data()));
  const std::uint64_t bad[] = {1, 2};
  const std::string msg =
      testing::dataset_error([&] { ds->read(0, bad, reinterpret_cast<std::byte*>(out.data())); });
  FERRY_EXPECT_NAMES(msg, synthetic::sample_file_name(2, 3), "full", "[4, 3, 3, 3]", "[4, 4, 4, 4]");
}

}  // namespace
}  // namespace ferry
