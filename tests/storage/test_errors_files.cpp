// Bad input, files and paths: every case throws DatasetError with a one-line message naming the culprit
// file and dataset: missing, truncated, garbage or binary files, dataset paths that lead nowhere, a failing
// HDF5 call, and file-per-sample folders or list files without the samples they should hold.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "small_images.hpp"
#include "storage/h5_writer.hpp"
#include "storage/synthetic.hpp"
#include "storage_test_util.hpp"

namespace ferry {
namespace {

using testing::open_error;
using testing::stacked_spec;
using testing::TempDir;

TEST(Errors, MissingFile) {
  TempDir dir;
  const std::string msg = open_error(stacked_spec({dir.file("absent.h5")}, kImageFields));
  FERRY_EXPECT_NAMES(msg, "absent.h5", "No such file");
}

TEST(Errors, DirectoryWhereAFileIsNeeded) {
  TempDir dir;
  const std::string msg = open_error(stacked_spec({dir.path().string()}, kImageFields));
  FERRY_EXPECT_NAMES(msg, dir.path().string(), "is a directory");
}

TEST(Errors, EmptyFileList) {
  const std::string msg = open_error(stacked_spec({}, kImageFields));
  FERRY_EXPECT_NAMES(msg, "no files", "stacked");
}

TEST(Errors, MissingDatasetPath) {
  TempDir dir;
  const std::string file = write_images(dir, "img.h5");
  const std::string msg = open_error(stacked_spec({file}, {{"image", "/images"}, {"label", "/nolabels"}}));
  FERRY_EXPECT_NAMES(msg, "img.h5", "/nolabels");
}

TEST(Errors, MissingParentGroup) {
  TempDir dir;
  const std::string file = write_images(dir, "img.h5");
  const std::string msg = open_error(stacked_spec({file}, {{"x", "climate/data"}}));
  FERRY_EXPECT_NAMES(msg, "img.h5", "climate/data", "no dataset");
}

// A dataset on the way is no group: H5Lexists fails there, which is "no dataset", not an HDF5 error.
TEST(Errors, PathThroughADataset) {
  TempDir dir;
  const std::string file = write_images(dir, "img.h5");
  const std::string msg = open_error(stacked_spec({file}, {{"x", "/images/x"}}));
  FERRY_EXPECT_NAMES(msg, "img.h5", "/images/x", "no dataset");
}

// A file with one dataset in a group: /grp/v, 3 int32.
std::string make_grouped(const TempDir& dir, const std::string& name) {
  storage::H5Writer w(dir.file(name));
  std::vector<std::int32_t> v(3);
  const hsize_t dims[] = {3};
  w.write_array<std::int32_t>("/grp/v", v, dims);
  w.commit();
  return dir.file(name);
}

TEST(Errors, PathIsAGroup) {
  TempDir dir;
  make_grouped(dir, "g.h5");
  const std::string msg = open_error(stacked_spec({dir.file("g.h5")}, {{"x", "/grp"}}));
  FERRY_EXPECT_NAMES(msg, "g.h5", "/grp", "H5Dopen2");
}

// A failure of the file itself while the path is looked up (here the symbol table node of /grp, whose
// signature is overwritten on disk: HDF5 cannot read the group's links) is an HDF5 error named with the file,
// the path and the call, not "no dataset".
TEST(Errors, CorruptGroupOnThePathIsAnError) {
  TempDir dir;
  std::fstream f(make_grouped(dir, "bad.h5"), std::ios::in | std::ios::out | std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  // Symbol table nodes ("SNOD") in the order the links went in: the root's (holding "grp"), then /grp's.
  const std::size_t root = bytes.find("SNOD"), grp = bytes.find("SNOD", root + 4);
  ASSERT_NE(grp, std::string::npos) << "the file has no second symbol table node";
  f.seekp(static_cast<std::streamoff>(grp));
  f.write("XXXX", 4);
  f.close();
  const std::string msg = open_error(stacked_spec({dir.file("bad.h5")}, {{"x", "/grp/v"}}));
  FERRY_EXPECT_NAMES(msg, "bad.h5", "/grp/v", "H5Lexists");
  EXPECT_EQ(msg.find("no dataset"), std::string::npos) << msg;
}

TEST(Errors, TruncatedFile) {
  TempDir dir;
  const std::string file = write_images(dir, "trunc.h5", 200, 16);
  const auto size = std::filesystem::file_size(file);
  ASSERT_EQ(::truncate(file.c_str(), static_cast<off_t>(size / 2)), 0);
  const std::string msg = open_error(stacked_spec({file}, kImageFields));
  FERRY_EXPECT_NAMES(msg, "trunc.h5", "H5Fopen");
}

// Writes `bytes` random bytes (seeded) to `file`, then `tail`.
void write_garbage(const std::string& file, int bytes, unsigned seed, const std::string& tail = "") {
  std::ofstream out(file, std::ios::binary);
  std::mt19937 rng(seed);
  for (int i = 0; i < bytes; ++i) out.put(static_cast<char>(rng()));
  out << tail;
}

TEST(Errors, GarbageFile) {
  TempDir dir;
  const std::string file = dir.file("garbage.h5");
  write_garbage(file, 4096, 42);
  const std::string msg = open_error(stacked_spec({file}, kImageFields));
  FERRY_EXPECT_NAMES(msg, "garbage.h5", "H5Fopen", "signature");
}

// One file that is neither named *.h5 nor HDF5 is read as a list file; a binary one is refused naming the
// file, not printing its bytes as a path. An HDF5 file without the extension is taken as a sample file.
TEST(Errors, BinaryFileIsNoListFile) {
  TempDir dir;
  const std::string file = dir.file("samples.bin");
  write_garbage(file, 256, 7, "\n\x01\x02 data\n");
  const std::string msg = open_error(stacked_spec({file}, {{"x", "/x"}}, Layout::file_per_sample));
  FERRY_EXPECT_NAMES(msg, "samples.bin", "not a list file", "control bytes");
  EXPECT_TRUE(std::all_of(msg.begin(), msg.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) << msg;
}

TEST(Errors, HdfFileWithoutExtensionIsASampleFile) {
  TempDir dir;
  const std::string h5 = make_grouped(dir, "g.h5"), plain = dir.file("sample_0");
  std::filesystem::copy_file(h5, plain);
  const auto ds = Dataset::open(stacked_spec({plain}, {{"v", "/grp/v"}}, Layout::file_per_sample));
  EXPECT_EQ(ds->size(), 1u);
}

TEST(Errors, EmptyDirectoryForFilePerSample) {
  TempDir dir;
  std::filesystem::create_directory(dir.file("none"));
  std::ofstream(dir.file("none/notes.txt")) << "no samples here\n";
  DatasetSpec spec;
  spec.layout = Layout::file_per_sample;
  spec.files = {dir.file("none")};
  spec.fields = {{"x", "x"}};
  FERRY_EXPECT_NAMES(open_error(spec), "none", "no *.h5");
}

TEST(Errors, ListFileNamesAMissingSample) {
  TempDir dir;
  std::ofstream(dir.file("list.txt")) << "# one sample\nmissing_sample.h5\n";
  DatasetSpec spec;
  spec.layout = Layout::file_per_sample;
  spec.files = {dir.file("list.txt")};
  spec.fields = {{"x", "x"}};
  FERRY_EXPECT_NAMES(open_error(spec), "missing_sample.h5");
}

// A folder "cosmo" of `n` CosmoFlow sample files (2^3 voxels each); its spec.
DatasetSpec write_cosmo(const TempDir& dir, std::uint64_t n) {
  synthetic::GenOptions o;
  o.kind = synthetic::Kind::cosmoflow;
  o.out = dir.file("cosmo");
  o.samples = n;
  o.cosmo_width = 2;
  return synthetic::generate(o).spec;
}

TEST(Errors, FilePerSampleMissingDatasetInFirstFile) {
  TempDir dir;
  DatasetSpec spec = write_cosmo(dir, 2);
  spec.fields = {{"full", "full"}, {"target", "unitParams"}};
  FERRY_EXPECT_NAMES(open_error(spec), synthetic::sample_file_name(0, 2), "unitParams");
}

TEST(Errors, EmptyFileInAFilePerSampleFolder) {
  TempDir dir;
  const DatasetSpec spec = write_cosmo(dir, 4);
  const std::string empty = dir.file("cosmo/" + synthetic::sample_file_name(2, 4));
  ASSERT_EQ(::truncate(empty.c_str(), 0), 0);
  FERRY_EXPECT_NAMES(open_error(spec), synthetic::sample_file_name(2, 4), "is empty (0 bytes)");
}

TEST(Errors, Hdf5CheckNamesTheCall) {
  TempDir dir;
  const std::string msg = testing::dataset_error([&] {
    storage::h5_init();
    FERRY_CHECK_H5(H5Fopen(dir.file("nothing.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "nothing.h5", "/d");
  });
  FERRY_EXPECT_NAMES(msg, "nothing.h5: dataset /d: H5Fopen failed");
}

}  // namespace
}  // namespace ferry
